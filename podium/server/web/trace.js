// A run's trace as a tree: the run's totals, each graph node with its time, and under
// each node what it did (model calls with tokens and cost, tool calls, decisions).

import { clock, folded, h, ms, shorten } from "./dom.js";

export function traceTree(trace) {
  const done = trace.finished;
  const totals = done
    ? `${done.model} · ${done.stop_reason} · ${done.steps} steps · ${ms(done.duration_ms)} · ` +
      `${done.input_tokens}+${done.output_tokens} tokens · $${done.cost_usd.toFixed(6)}`
    : "unfinished";
  const root = h("ul", { class: "tree" });
  const slowest = Math.max(1, ...trace.nodes.map((n) => n.duration_ms));
  for (const node of trace.nodes) {
    const width = Math.max(1, Math.round((node.duration_ms / slowest) * 100));
    const leaves = h("ul", {}, node.events.map(leaf));
    const fill = h("span", { class: "bar-fill" });
    fill.style.width = `${width}%`; // through the CSSOM: the CSP forbids style attributes
    root.append(h("li", { class: "node" },
      h("details", { open: node.events.length > 0 },
        h("summary", {}, h("span", { class: "node-name" }, node.node),
          h("span", { class: "dim" }, ` ${ms(node.duration_ms)}`),
          h("span", { class: "bar-track" }, fill)),
        leaves)));
  }
  return h("div", { class: "trace" },
    h("div", { class: "trace-head" },
      h("div", {}, h("strong", {}, `run ${trace.trace_id}`)),
      h("div", { class: "dim" }, `${clock(trace.started)} · ${totals}`),
      h("div", { class: "label" }, "request"), h("p", {}, shorten(trace.request, 300))),
    root,
    done ? h("div", {}, h("div", { class: "label" }, "answer"), folded(done.answer, "text")) : null);
}

function leaf(event) {
  let extra = "";
  if (event.kind === "model_call") {
    extra = `${ms(event.latency_ms)} · ${event.input_tokens}+${event.output_tokens} tokens · $${event.cost_usd.toFixed(6)}`;
  } else if (event.kind === "tool_call") {
    extra = ms(event.duration_ms);
  } else if (event.kind === "guard") {
    extra = ms(event.duration_ms);
  }
  return h("li", { class: `leaf ${event.kind}` }, event.label, extra ? h("span", { class: "dim" }, ` ${extra}`) : null);
}
