// One run in the conversation: the request, what happened as it happened (plan steps,
// tool calls, guard and policy decisions, approvals), then the answer or why it stopped.

import { clock, folded, h, json, ms, shorten } from "./dom.js";

const QUIET_GUARDS = new Set(["allow"]);

export class RunView {
  constructor(request, onTrace) {
    this.onTrace = onTrace;
    this.calls = new Map();
    this.tokens = false;
    this.finished = false;
    this.answer = h("div", { class: "answer pending" }, h("span", { class: "spinner" }, "working…"));
    this.activity = h("ol", { class: "activity" });
    this.meta = h("div", { class: "run-meta dim" });
    this.element = h("article", { class: "run" },
      h("div", { class: "request" }, h("span", { class: "who" }, "you"), h("p", {}, request)),
      this.activity, this.answer, this.meta);
  }

  /** One NDJSON item of /stream: {"event": ...}, {"result": ...} or {"error", "fix"}. */
  take(item) {
    if (item.event) this.event(item.event);
    else if (item.result) this.result(item.result);
    else if (item.error) this.failed(item.error, item.fix);
  }

  event(event) {
    const handler = {
      run_started: () => this.started(event),
      token: () => this.token(event.text ?? ""),
      model_call: () => this.line("plan", `plan step ${event.step}: ${event.tool_calls.join(", ") || "answer"}`,
        `${event.input_tokens}+${event.output_tokens} tokens · ${ms(event.latency_ms)}`),
      policy: () => this.policy(event),
      guard: () => this.guard(event),
      approval_requested: () => this.callRow(event.call_id, event.tool).status("waiting for approval", "wait"),
      approval_decided: () => this.decided(event),
      tool_call: () => this.callRow(event.call_id, event.name)
        .status(event.status, event.status === "ok" ? "ok" : "bad", event.duration_ms),
      call_shown: () => this.callRow(event.call_id, event.name).details(event.arguments, event.output),
      retry: () => this.line("warn", `retry ${event.target} ${event.name} (attempt ${event.attempt}): ${event.error}`),
      fallback: () => this.line("warn", `fallback ${event.name} → ${event.fallback}: ${event.reason}`),
      circuit_opened: () => this.line("warn", `circuit opened for ${event.name} after ${event.failures} failures`),
      compensation: () => this.line("warn", `compensation of ${event.name}: ${event.ok ? "undone" : `failed: ${event.detail}`}`),
      memory: () => this.line("memory", `memory ${event.operation} ${event.count}${event.detail ? `: ${event.detail}` : ""}`),
      run_stopped: () => this.line("bad", `stopped: ${event.reason}`, event.detail),
      run_finished: () => this.ended(event),
    }[event.kind];
    if (handler) handler();
  }

  started(event) {
    this.traceId = event.trace_id;
    this.meta.textContent = `started ${clock(event.time)} · trace ${event.trace_id.slice(0, 12)}`;
  }

  token(text) {
    if (!this.tokens) {
      this.tokens = true;
      this.answer.replaceChildren();
      this.answer.classList.add("streaming");
    }
    this.answer.append(document.createTextNode(text));
  }

  policy(event) {
    const row = this.callRow(event.call_id, event.tool);
    row.decision(`policy ${event.outcome}`, event.reason, event.outcome === "allow" ? "" : "warn");
    if (event.outcome === "allow") row.status("running", "run");
  }

  guard(event) {
    const quiet = QUIET_GUARDS.has(event.action);
    const reasons = (event.reasons || []).join("; ");
    const evidence = (event.evidence || []).join("; ");
    const text = `guard ${event.boundary} (${event.subject}) ${event.action}`;
    const detail = [reasons, evidence && `seen: ${evidence}`].filter(Boolean).join(" · ");
    this.line(quiet ? "guard quiet" : "guard decision", text, detail);
  }

  decided(event) {
    const verdict = event.approved ? "approved" : "rejected";
    const by = event.by ? ` by ${event.by}` : "";
    this.callRow(event.call_id, event.tool).decision(`${verdict}${by}`, event.reason, event.approved ? "" : "warn");
  }

  ended(event) {
    this.finished = true;
    this.answer.classList.remove("pending", "streaming");
    if (!this.tokens) this.answer.replaceChildren(folded(event.answer, "text"));
    if (event.stop_reason !== "answered") {
      this.answer.classList.add(event.stop_reason === "awaiting_approval" ? "waiting" : "stopped");
      this.answer.prepend(h("div", { class: "stop" }, `stop reason: ${event.stop_reason}`));
    }
    this.meta.replaceChildren(
      `${event.model} · ${event.stop_reason} · ${event.steps} steps · ${ms(event.duration_ms)} · `,
      `${event.input_tokens}+${event.output_tokens} tokens · $${event.cost_usd.toFixed(6)} · `,
      this.traceButton(event.trace_id));
  }

  result(result) {
    this.traceId = result.trace_id;
    for (const call of result.tool_calls || []) {
      this.callRow(call.call_id, call.name).details(call.arguments, call.output)
        .status(call.status, call.status === "ok" ? "ok" : "bad", call.duration_ms);
    }
    for (const waiting of result.pending_approvals || []) {
      this.callRow(waiting.call_id, waiting.tool).details(waiting.arguments).status("waiting for approval", "wait");
    }
    if (!this.finished) {
      this.ended({ ...result.usage, answer: result.answer, stop_reason: result.stop_reason,
        model: result.model, duration_ms: result.usage.latency_ms, trace_id: result.trace_id });
    }
    for (const warning of result.warnings || []) this.line("warn", warning);
  }

  failed(error, fix) {
    this.finished = true;
    this.answer.classList.remove("pending", "streaming");
    this.answer.classList.add("stopped");
    this.answer.replaceChildren(h("div", { class: "stop" }, `error: ${error}`), fix ? h("div", { class: "dim" }, `fix: ${fix}`) : null);
  }

  /** Show a run read back from the log (after a reload): request, answer, stop reason. */
  static past(run, onTrace) {
    const view = new RunView(run.request, onTrace);
    if (run.stop_reason) {
      view.ended({ answer: run.answer ?? "", stop_reason: run.stop_reason, model: "", steps: "?",
        duration_ms: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, trace_id: run.trace_id });
      view.meta.replaceChildren(`${clock(run.started)} · ${run.stop_reason} · `, view.traceButton(run.trace_id));
    } else {
      view.answer.replaceChildren(h("span", { class: "dim" }, "no end recorded yet"));
    }
    return view;
  }

  traceButton(traceId) {
    const button = h("button", { type: "button", class: "link trace-link", "data-trace": traceId }, "trace");
    button.addEventListener("click", () => this.onTrace(traceId));
    return button;
  }

  line(kind, text, detail = "") {
    const item = h("li", { class: `line ${kind}` }, h("span", { class: "what" }, text),
      detail ? h("span", { class: "why" }, ` — ${shorten(detail, 400)}`) : null);
    this.activity.append(item);
    return item;
  }

  callRow(callId, name) {
    let row = this.calls.get(callId);
    if (!row) {
      row = new CallRow(callId, name);
      this.calls.set(callId, row);
      this.activity.append(row.element);
    }
    return row;
  }
}

class CallRow {
  constructor(callId, name) {
    this.state = h("span", { class: "state" }, "planned");
    this.time = h("span", { class: "dim time" });
    this.decisions = h("div", { class: "decisions" });
    this.body = h("div", { class: "call-body" }, h("div", { class: "dim" }, `call ${callId}`));
    this.element = h("li", { class: "call", "data-call": callId },
      h("details", {}, h("summary", {}, h("span", { class: "tool" }, name), this.state, this.time), this.body),
      this.decisions);
    this.filled = false;
  }

  status(text, tone, duration) {
    this.state.textContent = text;
    this.state.className = `state ${tone || ""}`;
    if (duration !== undefined) this.time.textContent = ms(duration);
    return this;
  }

  details(args, output) {
    if (this.filled && output === undefined) return this;
    this.body.replaceChildren(h("div", { class: "label" }, "arguments"), folded(json(args ?? {}), "args"));
    if (output !== undefined) {
      this.filled = true;
      this.body.append(h("div", { class: "label" }, `output · ${String(output).length.toLocaleString()} characters`), folded(output));
    }
    return this;
  }

  decision(text, reason, tone) {
    this.decisions.append(h("div", { class: `decision ${tone}` }, text, reason ? h("span", { class: "why" }, ` — ${shorten(reason, 300)}`) : null));
    return this;
  }
}
