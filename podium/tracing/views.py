"""Runs read back from the audit log: listed, shown as a tree, and summed up as statistics."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from podium.errors import PodiumError
from podium.terminal import one_line, printable
from podium.tracing.events import (
    AnyEvent,
    ApprovalDecided,
    Event,
    GuardDecided,
    MemoryUsed,
    ModelCalled,
    NodeFinished,
    PolicyDecided,
    RunFinished,
    RunStarted,
    ToolCalled,
    describe,
    succeeded,
)
from podium.tracing.verify import Verification, verify

ROUTER_NAME = "router"  # the offline router model's name (planner/router/model.py)
_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


@dataclass
class Run:
    """One run's events, in the order they happened."""

    trace_id: str
    events: list[Event] = field(default_factory=list)

    @property
    def started(self) -> RunStarted | None:
        """The first event, when the log has it."""
        return next((e for e in self.events if isinstance(e, RunStarted)), None)

    @property
    def finished(self) -> RunFinished | None:
        """The last event, when the run got that far."""
        return next((e for e in reversed(self.events) if isinstance(e, RunFinished)), None)


def load_runs(directory: Path, key: str | None = None) -> list[Run]:
    """Every run in the audit log, oldest first, from the records that pass verification."""
    return runs_of(verify(directory, key))


def runs_of(verification: Verification) -> list[Run]:
    """The runs in the events ``verify`` accepted; unknown event kinds are skipped.

    A line that fails verification (forged, edited, out of the chain) is never shown.
    """
    runs: dict[str, Run] = {}
    for data in verification.events:
        try:
            event = _EVENT.validate_python(data)
        except ValidationError:
            continue
        runs.setdefault(event.trace_id, Run(event.trace_id)).events.append(event)
    return list(runs.values())


def find_run(runs: list[Run], prefix: str) -> Run:
    """The run whose trace id starts with ``prefix``."""
    matches = [r for r in runs if r.trace_id.startswith(prefix)]
    if len(matches) != 1:
        problem = "no run" if not matches else f"{len(matches)} runs"
        raise PodiumError(
            f"{problem} with a trace id starting {prefix!r}", "see 'podium trace list' for the ids"
        )
    return matches[0]


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%m-%d %H:%M:%S")


def runs_table(runs: list[Run], wide: bool = True) -> Table:
    """One row per run: when, id, outcome, time, tokens, and the model and cost when ``wide``.

    The id column is never cut (``trace show`` takes its first characters); the request
    gives way instead, so the table reads at 80 columns.
    """
    table = Table(title=f"{len(runs)} runs", title_justify="left")
    columns = ["started", "trace", "stop", "ms", "tokens"]
    columns += ["model", "steps", "usd"] if wide else []
    for column in columns:
        table.add_column(column, no_wrap=True, min_width=12 if column == "trace" else None)
    table.add_column("request", no_wrap=True, overflow="ellipsis", ratio=1)
    for run in runs:
        started, finished = run.started, run.finished
        row = [
            _when(run.events[0].time),
            run.trace_id[:12],
            finished.stop_reason if finished else "unfinished",
            f"{finished.duration_ms:.0f}" if finished else "-",
            f"{finished.input_tokens}+{finished.output_tokens}" if finished else "-",
        ]
        if wide:
            row += [
                started.model if started else "?",
                str(finished.steps) if finished else "-",
                money(finished.cost_usd, finished.cost_known) if finished else "-",
            ]
        request = one_line(started.request[:400])[:200] if started else ""
        table.add_row(*row, escape(request))
    return table


def run_row(run: Run) -> dict[str, Any]:
    """A run as ``trace list --json`` prints it: one JSON object a line."""
    started, finished = run.started, run.finished
    return {
        **summary(run),
        "thread_id": started.thread_id if started else None,
        "model": started.model if started else None,
        "steps": finished.steps if finished else None,
        "duration_ms": finished.duration_ms if finished else None,
        "input_tokens": finished.input_tokens if finished else None,
        "output_tokens": finished.output_tokens if finished else None,
        "cost_usd": finished.cost_usd if finished else None,
    }


def money(cost: float, known: bool) -> str:
    """A cost as shown: dollars, or 'cost unknown' for a model without a known price."""
    if known:
        return f"${cost:.6f}"
    return f"cost unknown (≥ ${cost:.6f})" if cost else "cost unknown"


def _leaf(event: Event) -> str | None:
    if isinstance(event, ModelCalled):
        plan = escape(", ".join(event.tool_calls)) or "answer"
        return (
            f"model {escape(event.model)} → {plan} [dim]{event.latency_ms:.1f} ms · "
            f"{event.input_tokens}+{event.output_tokens} tokens · "
            f"{money(event.cost_usd, event.priced)}[/]"
        )
    if isinstance(event, ToolCalled):
        why = f": {escape(printable(event.error))}" if event.error else ""
        return f"tool {escape(event.name)} {event.status} [dim]{event.duration_ms:.1f} ms[/]{why}"
    line = describe(event)
    if line is None:
        return None
    line = printable(line)
    return (
        escape(line)
        if isinstance(event, GuardDecided | PolicyDecided | MemoryUsed)
        else (f"[yellow]{escape(line)}[/]")
    )


def run_tree(run: Run) -> Tree:
    """The run as a tree: each node with its time, and under it what it did."""
    finished = run.finished
    title = f"[bold]run {run.trace_id}[/]"
    if finished:
        title += (
            f" · {finished.model} · {finished.stop_reason} · {finished.steps} steps · "
            f"{finished.duration_ms:.0f} ms · {finished.input_tokens}+"
            f"{finished.output_tokens} tokens · {money(finished.cost_usd, finished.cost_known)}"
        )
    tree = Tree(title)
    if run.started:
        tree.add(f"request: {escape(printable(run.started.request[:200]))}")
    waiting: list[str] = []
    for event in run.events:
        if isinstance(event, NodeFinished):
            branch = tree.add(f"[cyan]{event.node}[/] [dim]{event.duration_ms:.1f} ms[/]")
            for line in waiting:
                branch.add(line)
            waiting = []
        elif (leaf := _leaf(event)) is not None:
            waiting.append(leaf)
    for leaf in waiting:
        tree.add(leaf)
    if finished:
        tree.add(f"answer: {escape(printable(finished.answer[:300]))}")
    return tree


def _label(event: Event) -> str | None:
    """One plain line for an event of the tree (no markup: the page escapes it)."""
    if isinstance(event, ModelCalled):
        plan = ", ".join(event.tool_calls) or "answer"
        return f"model {event.model} → {plan}"
    if isinstance(event, ToolCalled):
        return f"tool {event.name} {event.status}" + (f": {event.error}" if event.error else "")
    return describe(event)


def run_data(run: Run) -> dict[str, Any]:
    """The run as JSON: its totals, and each node with its time and what it did under it."""
    started, finished = run.started, run.finished
    nodes: list[dict[str, Any]] = []
    waiting: list[dict[str, Any]] = []
    for event in run.events:
        if isinstance(event, NodeFinished):
            nodes.append({"node": event.node, "duration_ms": event.duration_ms, "events": waiting})
            waiting = []
        elif (label := _label(event)) is not None:
            waiting.append({"label": label, **event.model_dump(mode="json")})
    if waiting:
        nodes.append({"node": "(where the run stopped)", "duration_ms": 0.0, "events": waiting})
    return {
        "trace_id": run.trace_id,
        "thread_id": started.thread_id if started else None,
        "started": run.events[0].time if run.events else None,
        "request": started.request if started else "",
        "model": started.model if started else "",
        "finished": finished.model_dump(mode="json") if finished else None,
        "nodes": nodes,
    }


def summary(run: Run) -> dict[str, Any]:
    """One line's worth of a run: when, the request, how it ended, the answer."""
    started, finished = run.started, run.finished
    return {
        "trace_id": run.trace_id,
        "started": run.events[0].time if run.events else None,
        "request": started.request if started else "",
        "stop_reason": finished.stop_reason if finished else None,
        "answer": finished.answer if finished else None,
    }


def runs_of_thread(runs: list[Run], thread_id: str) -> list[Run]:
    """The runs (first ones and resumptions) of one thread, oldest first."""
    return [r for r in runs if (s := r.started) is not None and s.thread_id == thread_id]


def last_decisions(runs: list[Run], thread_id: str) -> list[ApprovalDecided]:
    """The decisions of the thread's latest run that had any (who decided what)."""
    for run in reversed(runs_of_thread(runs, thread_id)):
        decided = [e for e in run.events if isinstance(e, ApprovalDecided)]
        if decided:
            return decided
    return []


def decisions_on(runs: list[Run], thread_id: str, call_ids: set[str]) -> list[ApprovalDecided]:
    """The latest decision on each of ``call_ids`` in the thread's runs (who decided what)."""
    found: dict[str, ApprovalDecided] = {}
    for run in reversed(runs_of_thread(runs, thread_id)):
        for event in run.events:
            if isinstance(event, ApprovalDecided) and event.call_id in call_ids:
                found.setdefault(event.call_id, event)
    return [found[c] for c in sorted(found)]


def _percentile(values: list[float], share: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def fulfilled(run: Run) -> bool:
    """Whether the run did what was asked, as RunResult.fulfilled says.

    Answered, with a result from a call if it made any; the offline router's answer
    without a call is not.
    """
    finished, started = run.finished, run.started
    if finished is None:
        return False
    statuses = [e.status for e in run.events if isinstance(e, ToolCalled)]
    if started is not None and started.model == ROUTER_NAME and not statuses:
        return False
    return succeeded(finished.stop_reason, statuses)


def stats_tables(runs: list[Run]) -> list[Table]:
    """Runs and outcomes; tokens and cost by model; calls by tool; guard and policy counts."""
    finished = [f for r in runs if (f := r.finished)]
    overview = Table(title="runs")
    for column in ("runs", "answered", "success rate", "p50 ms", "p95 ms", "tokens", "usd"):
        overview.add_column(column)
    latencies = sorted(f.duration_ms for f in finished)
    answered = sum(f.stop_reason == "answered" for f in finished)
    succeeded = sum(fulfilled(r) for r in runs)
    overview.add_row(
        str(len(runs)),
        str(answered),
        f"{succeeded / len(finished):.1%}" if finished else "-",
        f"{_percentile(latencies, 0.5):.0f}" if latencies else "-",
        f"{_percentile(latencies, 0.95):.0f}" if latencies else "-",
        str(sum(f.input_tokens + f.output_tokens for f in finished)),
        f"{sum(f.cost_usd for f in finished):.6f}",
    )
    by_model: dict[str, list[ModelCalled]] = defaultdict(list)
    by_tool: dict[str, list[ToolCalled]] = defaultdict(list)
    decisions: Counter[str] = Counter()
    for run in runs:
        for event in run.events:
            if isinstance(event, ModelCalled):
                by_model[event.model].append(event)
            elif isinstance(event, ToolCalled):
                by_tool[event.name].append(event)
            elif isinstance(event, GuardDecided):
                decisions[f"guard {event.boundary} {event.action}"] += 1
            elif isinstance(event, PolicyDecided):
                decisions[f"policy {event.outcome}"] += 1
    models = Table(title="by model")
    for column in ("model", "calls", "input tokens", "output tokens", "usd", "p50 ms"):
        models.add_column(column)
    for name, calls in sorted(by_model.items()):
        models.add_row(
            name,
            str(len(calls)),
            str(sum(c.input_tokens for c in calls)),
            str(sum(c.output_tokens for c in calls)),
            f"{sum(c.cost_usd for c in calls):.6f}",
            f"{statistics.median(c.latency_ms for c in calls):.1f}",
        )
    tools = Table(title="by tool")
    for column in ("tool", "calls", "ok", "failed", "p50 ms"):
        tools.add_column(column)
    for name, tool_calls in sorted(by_tool.items()):
        ok = sum(c.status == "ok" for c in tool_calls)
        tools.add_row(
            name,
            str(len(tool_calls)),
            str(ok),
            str(len(tool_calls) - ok),
            f"{statistics.median(c.duration_ms for c in tool_calls):.1f}",
        )
    guards = Table(title="guard and policy decisions")
    guards.add_column("decision")
    guards.add_column("count")
    for name, count in sorted(decisions.items()):
        guards.add_row(name, str(count))
    return [overview, models, tools, guards]


def stats_data(runs: list[Run]) -> dict[str, Any]:
    """What ``stats`` shows, as ``stats --json`` prints it."""
    finished = [f for r in runs if (f := r.finished)]
    latencies = sorted(f.duration_ms for f in finished)
    tools: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "ok": 0})
    models: dict[str, dict[str, float]] = defaultdict(
        lambda: {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
    )
    for run in runs:
        for event in run.events:
            if isinstance(event, ToolCalled):
                tools[event.name]["calls"] += 1
                tools[event.name]["ok"] += event.status == "ok"
            elif isinstance(event, ModelCalled):
                model = models[event.model]
                model["calls"] += 1
                model["input_tokens"] += event.input_tokens
                model["output_tokens"] += event.output_tokens
                model["cost_usd"] += event.cost_usd
    done = sum(fulfilled(r) for r in runs)
    return {
        "runs": len(runs),
        "answered": sum(f.stop_reason == "answered" for f in finished),
        "succeeded": done,
        "success_rate": done / len(finished) if finished else None,
        "p50_ms": _percentile(latencies, 0.5) if latencies else None,
        "p95_ms": _percentile(latencies, 0.95) if latencies else None,
        "tokens": sum(f.input_tokens + f.output_tokens for f in finished),
        "cost_usd": sum(f.cost_usd for f in finished),
        "by_model": dict(models),
        "by_tool": dict(tools),
    }
