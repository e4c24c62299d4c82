// The page: sign-in, the caller's threads, a conversation streamed as it runs, the calls
// waiting for a decision, traces and eval reports. State lives in the service: reloading
// the page finds everything again.

import { ApiError, call, stream, token, watchHealth } from "./api.js";
import { clear, clock, folded, h, json, shorten } from "./dom.js";
import { RunView } from "./run.js";
import { traceTree } from "./trace.js";

const $ = (id) => document.getElementById(id);
const state = { thread: null, busy: false, live: new Map() };

// --- theme ------------------------------------------------------------------------------
function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}
applyTheme(localStorage.getItem("podium.theme"));
$("theme").addEventListener("click", () => {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  const next = dark ? "light" : "dark";
  localStorage.setItem("podium.theme", next);
  applyTheme(next);
});

// --- status line ------------------------------------------------------------------------
function say(text, tone = "") {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${tone}`;
}

function problem(error) {
  if (error instanceof ApiError) return error.fix ? `${error.message} (fix: ${error.fix})` : error.message;
  return String(error);
}

// --- sign-in ----------------------------------------------------------------------------
function showLogin(message = "") {
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token").focus();
}

$("login-form").addEventListener("submit", async (submit) => {
  submit.preventDefault();
  token.set($("token").value.trim());
  $("token").value = "";
  await start();
});

$("logout").addEventListener("click", () => {
  token.forget();
  showLogin("token forgotten");
});

async function start() {
  try {
    await call("GET", "/threads");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const had = token.get();
      token.forget();
      showLogin(had ? "that token is not known to this service" : "");
      return;
    }
    say(problem(error), "bad");
  }
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = !token.get();
  $("who").textContent = token.get() ? "signed in with a token" : "no token (loopback)";
  await refresh();
}

async function refresh() {
  await Promise.all([loadThreads(), loadApprovals(), loadReports()]);
}

// --- threads ----------------------------------------------------------------------------
async function loadThreads() {
  let threads;
  try {
    threads = await call("GET", "/threads");
  } catch (error) {
    say(problem(error), "bad");
    return;
  }
  const list = clear($("threads"));
  if (!threads.length) list.append(h("li", { class: "dim" }, "no threads yet"));
  for (const thread of threads) {
    const item = h("li", { class: `thread ${thread.thread_id === state.thread ? "current" : ""}`, "data-thread": thread.thread_id },
      h("div", { class: "thread-line" }, h("span", { class: "name" }, thread.thread_id), h("span", { class: `badge ${thread.state}` }, thread.state)),
      h("div", { class: "dim small" }, `${clock(thread.since)} · ${shorten(thread.request, 60)}`));
    item.addEventListener("click", () => openThread(thread.thread_id));
    list.append(item);
  }
}

function newThread() {
  state.thread = null;
  $("thread-title").textContent = "new thread";
  $("thread-state").textContent = "";
  clear($("conversation"));
  clear($("thread-approvals"));
  loadThreads();
  $("request").focus();
}
$("new-thread").addEventListener("click", newThread);

async function openThread(threadId) {
  state.thread = threadId;
  $("thread-title").textContent = threadId;
  const conversation = clear($("conversation"));
  clear($("thread-approvals"));
  await loadThreads();
  try {
    const [view, runs] = await Promise.all([
      call("GET", `/threads/${encodeURIComponent(threadId)}`),
      call("GET", `/threads/${encodeURIComponent(threadId)}/runs`),
    ]);
    $("thread-state").textContent = view.waiting.length ? "waiting" : view.unfinished ? "unfinished" : view.stop_reason || "";
    for (const run of runs) conversation.append(RunView.past(run, openTrace).element);
    if (!runs.length && view.request) conversation.append(h("p", { class: "dim" }, `last request: ${view.request}`));
    showThreadApprovals(view.waiting, threadId);
  } catch (error) {
    conversation.append(h("p", { class: "error" }, problem(error)));
  }
}

// --- asking -----------------------------------------------------------------------------
$("request").addEventListener("keydown", (key) => {
  if (key.key === "Enter" && !key.shiftKey) {
    key.preventDefault();
    $("ask").requestSubmit();
  }
});

$("ask").addEventListener("submit", async (submit) => {
  submit.preventDefault();
  const request = $("request").value.trim();
  if (!request || state.busy) return;
  if (!state.thread) {
    state.thread = `web-${crypto.getRandomValues(new Uint32Array(2)).reduce((a, n) => a + n.toString(16), "")}`;
    $("thread-title").textContent = state.thread;
  }
  const threadId = state.thread;
  $("request").value = "";
  const view = new RunView(request, openTrace);
  $("conversation").append(view.element);
  view.element.scrollIntoView({ block: "end" });
  state.busy = true;
  $("send").disabled = true;
  try {
    await stream({ request, thread_id: threadId }, (item) => {
      view.take(item);
      if (item.event?.kind === "approval_requested") loadApprovals();
    });
  } catch (error) {
    view.failed(error.message, error.fix);
    if (error instanceof ApiError && error.status === 0) state.live.set(threadId, view);
  } finally {
    state.busy = false;
    $("send").disabled = false;
  }
  await Promise.all([loadThreads(), loadApprovals()]);
  if (state.thread === threadId) {
    const view2 = await call("GET", `/threads/${encodeURIComponent(threadId)}`).catch(() => null);
    if (view2) showThreadApprovals(view2.waiting, threadId);
  }
});

// --- approvals --------------------------------------------------------------------------
async function loadApprovals() {
  let waiting = [];
  try {
    waiting = await call("GET", "/approvals");
  } catch (error) {
    say(problem(error), "bad");
  }
  $("approval-count").textContent = waiting.length ? String(waiting.length) : "";
  const box = clear($("all-approvals"));
  if (!waiting.length) {
    box.append(h("p", { class: "dim small" }, "nothing waits for you"));
    return;
  }
  box.append(approvalForm(waiting, "all"));
}

function showThreadApprovals(waiting, threadId) {
  const box = clear($("thread-approvals"));
  if (!waiting.length) return;
  box.append(h("h3", {}, `This thread waits for ${waiting.length} decision${waiting.length > 1 ? "s" : ""}`),
    approvalForm(waiting.map((w) => ({ ...w, thread_id: threadId, owner: null })), "thread"));
}

/** A form deciding several calls at once: approve or deny each, then one submit. */
function approvalForm(waiting, where) {
  const form = h("form", { class: "approvals", "data-where": where });
  for (const request of waiting) {
    const name = `${where}-${request.owner || ""}-${request.thread_id}-${request.call_id}`;
    const choice = (value, label) => h("label", { class: `choice ${value}` },
      h("input", { type: "radio", name, value, "data-call": request.call_id }), label);
    form.append(h("div", { class: "approval", "data-call": request.call_id, "data-thread": request.thread_id, "data-owner": request.owner || "" },
      h("div", { class: "approval-head" },
        h("span", { class: "tool" }, request.tool),
        h("span", { class: `badge risk-${request.risk}` }, `risk ${request.risk}`),
        request.owner ? h("span", { class: "dim small" }, ` ${request.owner} · ${request.thread_id}`) : null),
      h("div", { class: "dim small" }, request.reason),
      folded(json(request.arguments), "args"),
      h("div", { class: "choices" }, choice("approve", "approve"), choice("deny", "deny"))));
  }
  const result = h("div", { class: "decide-result", role: "alert" });
  form.append(h("button", { type: "submit" }, "submit decisions"), result);
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    await decide(form, result);
  });
  return form;
}

async function decide(form, result) {
  const groups = new Map(); // (owner, thread) -> decisions
  for (const row of form.querySelectorAll(".approval")) {
    const picked = row.querySelector("input:checked");
    if (!picked) continue;
    const key = `${row.dataset.owner}\u0000${row.dataset.thread}`;
    if (!groups.has(key)) groups.set(key, { owner: row.dataset.owner, thread: row.dataset.thread, decisions: {} });
    groups.get(key).decisions[row.dataset.call] = picked.value === "approve";
  }
  clear(result);
  if (!groups.size) {
    result.append(h("p", { class: "error" }, "choose approve or deny for at least one call"));
    return;
  }
  for (const group of groups.values()) {
    const body = { decisions: group.decisions };
    if (group.owner) body.owner = group.owner;
    try {
      const answer = await call("POST", `/threads/${encodeURIComponent(group.thread)}/resume`, body);
      result.append(h("p", { class: "ok" }, `${group.thread}: ${answer.stop_reason}`));
      if (!group.owner && state.thread === group.thread) {
        const view = new RunView("(decisions)", openTrace);
        view.result(answer);
        $("conversation").append(view.element);
      }
    } catch (error) {
      result.append(h("p", { class: "error" }, `${group.thread}: ${problem(error)}`));
    }
  }
  const box = form.parentElement; // both lists are drawn again: the outcome stays below
  await Promise.all([loadApprovals(), loadThreads()]);
  if (state.thread) {
    const view = await call("GET", `/threads/${encodeURIComponent(state.thread)}`).catch(() => null);
    if (view) showThreadApprovals(view.waiting, state.thread);
  }
  const fresh = box.querySelector(".decide-result"); // the form drawn again, if calls still wait
  if (fresh) fresh.replaceChildren(...result.childNodes);
  else box.append(result);
}

// --- traces and reports -----------------------------------------------------------------
function openPanel(title, content) {
  $("panel-title").textContent = title;
  clear($("panel-body")).append(content);
  $("panel").hidden = false;
}
$("panel-close").addEventListener("click", () => { $("panel").hidden = true; });

async function openTrace(traceId) {
  try {
    openPanel(`trace ${traceId.slice(0, 12)}`, traceTree(await call("GET", `/traces/${traceId}`)));
  } catch (error) {
    openPanel("trace", h("p", { class: "error" }, problem(error)));
  }
}

async function loadReports() {
  const list = clear($("reports"));
  let found;
  try {
    found = await call("GET", "/reports");
  } catch (error) {
    list.append(h("li", { class: "error" }, problem(error)));
    return;
  }
  if (!found.configured) list.append(h("li", { class: "dim small" }, "none (start with --reports DIR)"));
  else if (!found.reports.length) list.append(h("li", { class: "dim small" }, "no reports there"));
  for (const report of found.reports) {
    const item = h("li", { class: "report" }, report.name);
    item.addEventListener("click", () => openReport(report.name));
    list.append(item);
  }
}

/** A report is read as data: its headings, paragraphs and tables, copied as text. */
async function openReport(name) {
  let text;
  try {
    const response = await fetch(`/reports/${encodeURIComponent(name)}`, {
      headers: token.get() ? { Authorization: `Bearer ${token.get()}` } : {}, cache: "no-store",
    });
    if (!response.ok) throw new ApiError(response.status, (await response.json()).error);
    text = await response.text();
  } catch (error) {
    openPanel(name, h("p", { class: "error" }, problem(error)));
    return;
  }
  const parsed = new DOMParser().parseFromString(text, "text/html"); // inert: nothing runs
  const out = h("div", { class: "report-view" });
  for (const part of parsed.body.querySelectorAll("h1, h2, h3, p, table")) {
    if (part.tagName === "TABLE") {
      const table = h("table");
      for (const row of part.querySelectorAll("tr")) {
        table.append(h("tr", {}, [...row.children].map((cell) => h(cell.tagName === "TH" ? "th" : "td", {}, cell.textContent))));
      }
      out.append(table);
    } else {
      out.append(h(part.tagName.toLowerCase(), {}, part.textContent));
    }
  }
  openPanel(name, out);
}

// --- the service going away and coming back ---------------------------------------------
watchHealth(async (up) => {
  if (!up) {
    say("the service cannot be reached: reconnecting…", "bad");
    return;
  }
  say("reconnected to the service", "ok");
  await refresh();
  for (const [threadId] of state.live) {
    state.live.delete(threadId);
    if (state.thread === threadId) await openThread(threadId);
  }
  setTimeout(() => { if ($("status").textContent === "reconnected to the service") say(""); }, 5000);
});

start();
