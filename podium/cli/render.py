"""How runs look in a terminal: one line per event, then the calls and the answer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from podium.terminal import printable
from podium.tracing.events import (
    Event,
    GuardDecided,
    MemoryUsed,
    ModelCalled,
    PolicyDecided,
    RunStarted,
    ToolCalled,
    describe,
)
from podium.tracing.views import money

if TYPE_CHECKING:
    from rich.status import Status

    from podium.results import RunResult
    from podium.tools.registry import ToolRegistry

_STATUS_STYLE = {"ok": "green", "denied": "red", "blocked": "red", "timeout": "yellow"}


def _style(event: Event) -> str:
    if isinstance(event, GuardDecided):
        return {"allow": "green", "fix": "yellow", "block": "red"}[event.action]
    if isinstance(event, PolicyDecided):
        return "green" if event.outcome == "allow" else "red"
    return "blue" if isinstance(event, MemoryUsed) else "yellow"


def event_line(event: Event) -> str | None:
    """One readable line (rich markup, text escaped) for an event worth showing live."""
    if isinstance(event, RunStarted):
        return (
            f"[bold]run[/] {event.trace_id[:12]} on thread {escape(event.thread_id[:12])} "
            f"({escape(event.model)})"
        )
    if isinstance(event, ModelCalled):
        plan = escape(", ".join(event.tool_calls)) if event.tool_calls else "answer"
        return (
            f"[cyan]plan[/] step {event.step}: {plan}  "
            f"[dim]{event.input_tokens}+{event.output_tokens} tokens, "
            f"{event.latency_ms:.1f} ms[/]"
        )
    if isinstance(event, ToolCalled):
        style = _STATUS_STYLE.get(event.status, "yellow")
        why = f": {escape(printable(event.error))}" if event.error else ""
        return (
            f"[magenta]tool[/] {escape(event.name)} [{style}]{event.status}[/] "
            f"[dim]{event.duration_ms:.1f} ms[/]{why}"
        )
    line = describe(event)
    return f"[{_style(event)}]{escape(printable(line))}[/]" if line else None


class Spinner:
    """A spinner while a run has shown nothing yet: on terminals only, gone once it stops."""

    def __init__(self, console: Console, enabled: bool = True, text: str = "working") -> None:
        self._status: Status | None = None
        if enabled and console.is_terminal:
            self._status = console.status(f"[dim]{text}[/]", spinner="dots")

    def __enter__(self) -> Spinner:
        if self._status is not None:
            self._status.start()
        return self

    def stop(self) -> None:
        """Take the spinner away (the run shows something now)."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __exit__(self, *_: object) -> None:
        self.stop()


def show_result(
    console: Console, result: RunResult, verbose: bool, answer_shown: bool = False
) -> None:
    """The tool calls (when verbose), then the answer (unless it was streamed as it stands)."""
    if verbose and result.tool_calls:
        table = Table(title="tool calls", show_lines=False)
        for column in ("step", "call", "status", "output"):
            table.add_column(column, overflow="fold")
        for call in result.tool_calls:
            arguments = ", ".join(
                f"{k}={json.dumps(v, default=str)}" for k, v in call["arguments"].items()
            )
            table.add_row(
                str(call["step"]),
                escape(printable(f"{call['name']}({arguments})")),
                call["status"],
                escape(printable(call["output"][:200])),
            )
        console.print(table)
    if not answer_shown:
        console.print(printable(plain_answer(result)), markup=False, highlight=False)
    if verbose:
        usage = result.usage
        console.print(
            f"[dim]{result.stop_reason} · {usage.steps} steps · {usage.input_tokens}+"
            f"{usage.output_tokens} tokens · {money(usage.cost_usd, usage.cost_known)} · "
            f"{usage.latency_ms:.0f} ms · "
            f"trace {result.trace_id}[/]"
        )


def plain_answer(result: RunResult) -> str:
    """The answer as a person reads it: the offline router's calls said in words.

    The router composes its answer as calls (``calculator(expression="2 + 2") → 4``), which
    the Python API keeps; at the terminal each call is one line: "calculator, 2 + 2: 4".
    """
    from podium.planner.router.model import ROUTER_NAME

    if result.model != ROUTER_NAME or not result.tool_calls or result.stop_reason != "answered":
        return result.answer
    lines = []
    for call in result.tool_calls:
        values = ", ".join(_said(v) for v in call["arguments"].values())
        what = call["name"].replace("_", " ") + (f", {values}" if values else "")
        output = call["output"].removeprefix("error: ")
        if call["status"] == "ok":
            lines.append(f"{what}: {_said(_parsed(output))}")
        else:
            lines.append(f"{what}: {call['status']} ({output[:300]})")
    return "\n".join(lines)


def _parsed(output: str) -> object:
    try:
        return json.loads(output)
    except ValueError:
        return output


def _said(value: object) -> str:
    """A value in words: a list as its items, a text as it is."""
    if isinstance(value, list):
        return ", ".join(_said(v) for v in value) or "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_said(v)}" for k, v in value.items())
    return str(value)


def tools_table(registry: ToolRegistry) -> Table:
    """The registry as a table that reads at 80 columns: name, parameters, what it does.

    The description's first sentence; risk and scopes after it when the tool has them.
    """
    table = Table(title=f"{len(registry)} tools", title_justify="left")
    table.add_column("tool", no_wrap=True)
    table.add_column("parameters", overflow="fold", max_width=28)
    table.add_column("what it does", overflow="fold", ratio=1)
    for item in registry:
        schema = item.parameters_schema()
        required = set(schema.get("required", []))
        parameters = ", ".join(
            f"{name}{'' if name in required else '?'}: {spec.get('type', 'any')}"
            for name, spec in schema.get("properties", {}).items()
        )
        about = item.description.split("\n", 1)[0]
        notes = [f"risk {item.risk}"] if item.risk != "low" else []
        notes += [f"scopes {', '.join(sorted(item.scopes))}"] if item.scopes else []
        notes += ["side effects"] if item.side_effects else []
        shown = escape(about) + (f" [dim]({escape('; '.join(notes))})[/]" if notes else "")
        table.add_row(item.name, parameters or "-", shown)
    return table
