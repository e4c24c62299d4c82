"""`podium run`, `podium resume` and `podium tools`: one request at the terminal."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from podium.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    AsOption,
    MCPOption,
    MemoryOption,
    PolicyOption,
    build_agent,
    checked_policy,
    fail,
    stderr,
)

if TYPE_CHECKING:
    from rich.console import Console

    from podium.agent import Agent
    from podium.identity import Principal
    from podium.planner.approvals import Approval, ApprovalRequest
    from podium.results import RunResult
    from podium.tracing.events import Event, Sink

Items = Iterator["Event | RunResult"]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show every step.")]


def shown_run(
    items: Items, verbose: bool, console: Console, plain: bool = False
) -> tuple[RunResult, bool]:
    """Show a run as it goes; its result, and whether the answer was printed as it stands.

    Without ``verbose`` the answer is printed as the model writes it (a spinner waits for
    its first word); with it, each event as it happens, and the answer after the calls.
    With ``plain`` (the offline router), the answer is said at the end (render.plain_answer).
    """
    from podium.cli.render import Spinner, event_line
    from podium.results import RunResult
    from podium.terminal import printable
    from podium.tracing.events import ModelCalled
    from podium.tracing.live import TokensDiscarded, TokenStreamed

    result: RunResult | None = None
    written, open_line = "", False
    with Spinner(console, enabled=not verbose) as spinner:
        for item in items:
            if isinstance(item, RunResult):
                result = item
            elif isinstance(item, TokenStreamed) and not verbose and not plain:
                spinner.stop()
                written += item.text
                open_line = True
                console.print(printable(item.text), end="", markup=False, highlight=False)
            elif isinstance(item, TokensDiscarded) and not verbose:
                if open_line:
                    console.print(f"\n[yellow]withdrawn:[/] {escape(item.reason)}", highlight=False)
                written, open_line = "", False
            elif verbose and (line := event_line(item)):
                console.print(line, highlight=False)
            elif isinstance(item, ModelCalled) and item.tool_calls:
                written = ""  # text before a round of calls is not the answer
    assert result is not None  # a run's items always end with its result
    if open_line:
        console.print()
    return result, bool(written) and written == result.answer


def run_one(
    agent: Agent,
    request: str,
    thread: str,
    verbose: bool,
    console: Console,
    principal: Principal | None = None,
) -> RunResult:
    """Run one request, asking at the terminal about calls that need approval."""
    items = agent.stream(request, thread_id=thread, principal=principal, mode="both")
    result, streamed = shown_run(items, verbose, console, agent.uses_router)
    return decided(agent, result, verbose, console, principal, streamed)


def decided(
    agent: Agent,
    result: RunResult,
    verbose: bool,
    console: Console,
    principal: Principal | None,
    streamed: bool = False,
) -> RunResult:
    """Ask about the calls ``result`` waits for until none waits; show the end result."""
    from podium.cli.render import show_result

    while result.stop_reason == "awaiting_approval":
        # The person at the terminal decides as the principal they act as (--as): under a
        # policy, that principal needs approve:<tool> like any other decider.
        decisions = ask(result.pending_approvals, console)
        items = resumed(agent, result.thread_id, decisions, principal)
        result, streamed = shown_run(items, verbose, console, agent.uses_router)
    show_result(console, result, verbose, answer_shown=streamed)
    return result


def resumed(
    agent: Agent,
    thread: str,
    decisions: dict[str, bool | Approval] | None,
    principal: Principal | None,
) -> Items:
    """The resumed run of ``thread`` as it goes (decided by ``principal``, if given)."""
    from podium.streaming import blocked, watched

    def start(watcher: Sink) -> Coroutine[Any, Any, RunResult]:
        return agent.aresume(
            thread, decisions, principal=principal, decider=principal, watchers=[watcher]
        )

    return blocked(watched(start))


def ask(waiting: list[ApprovalRequest], console: Console) -> dict[str, bool | Approval]:
    """Ask the person at the terminal about each waiting call; no answer means no."""
    from podium.planner.approvals import Approval

    decisions: dict[str, bool | Approval] = {}
    for request in waiting:
        shown = ", ".join(f"{k}={v!r}" for k, v in request.arguments.items())
        asked = escape(f"{request.tool}({shown}): {request.reason}")
        console.print(f"[bold yellow]approval needed[/] {asked}", highlight=False)
        try:
            approved = typer.confirm("approve?", default=False)
            decisions[request.call_id] = Approval(approved=approved, by="cli")
        except typer.Abort:  # no terminal to answer from
            decisions[request.call_id] = Approval(
                approved=False, by="cli", reason="no one was there to approve"
            )
    return decisions


def done(result: RunResult, router: bool = False) -> bool:
    """Whether the run did what was asked (the offline ``router`` does nothing without a call)."""
    return result.fulfilled and not (router and not result.tool_calls)


def exit_code(result: RunResult, router: bool = False) -> int:
    """The exit code of a run (the README's table), after saying on stderr why it is not 0.

    A model that could not be used at all (unreachable, refused the key or the request) is
    a setup problem (2), told as one line with its fix; a run that stopped, could not
    answer, or whose every call failed is 1. The offline ``router`` answers nothing without
    a tool: its answer with no call says what it could not do (1).
    """
    from podium.tracing.events import RunStopped

    if router and result.ok and not result.tool_calls:
        stderr().print(
            "[yellow]stopped:[/] the offline router model made no call for this request",
            highlight=False,
        )
        return EXIT_FAILED
    if result.fulfilled:
        return EXIT_OK
    if result.stop_reason == "model_error" and result.usage.model_calls == 0:
        detail = next((e.detail for e in result.events if isinstance(e, RunStopped)), "")
        problem, _, fix = detail.removesuffix(")").partition(" (fix: ")
        fail(problem or result.answer, fix)
    why = result.stop_reason
    if result.ok:  # answered, but no call it made gave a result
        failed = [
            f"{c['name']} {c['status']}: {c['output'].removeprefix('error: ')[:120]}"
            for c in result.tool_calls
        ]
        why = "no tool call succeeded (" + "; ".join(failed) + ")"
    stderr().print(f"[yellow]stopped:[/] {escape(why)}", highlight=False)
    return EXIT_FAILED


def interrupted(thread: str) -> None:
    """Say that Ctrl-C stopped the run of ``thread``, what it left, and how to continue it."""
    stderr().print(
        f"[yellow]interrupted:[/] the run of thread {escape(thread)} stopped; what it did "
        f"stands (side effects are not undone): continue it with: podium resume {escape(thread)}",
        highlight=False,
    )


@contextmanager
def kept_when_interrupted() -> Iterator[None]:
    """Ctrl-C pauses the runs started inside: they keep what they did, to be resumed.

    Undone, a run resumed later would replay the results of effects that no longer stand;
    a run cancelled from code (not this command) is undone and ended instead.
    """
    from podium.runner import CANCEL_REASON

    reason = CANCEL_REASON.set(["pause"])  # the runs' tasks are made from this context
    try:
        yield
    finally:
        CANCEL_REASON.reset(reason)


def read_request(request: str | None, file: Path | None) -> str:
    """The request: the argument, standard input for ``-``, or the file of ``--file``.

    A long request does not fit a command line (the shell says "Argument list too long"):
    ``--file`` and ``-`` take any length, up to the model's context window.
    """
    from podium.errors import InvalidRequest

    if file is not None and request is not None:
        raise InvalidRequest(
            "the request is given twice: as an argument and with --file",
            "give one of them",
        )
    if file is not None:
        return sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    if request == "-":
        return sys.stdin.read()
    if request is None:
        raise InvalidRequest(
            "no request given",
            'podium run "what to do", or podium run --file FILE, or podium run - < FILE',
        )
    return request


def run(
    request: Annotated[
        str | None, typer.Argument(help="What you want done; - reads it from standard input.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the request from this file.")
    ] = None,
    thread: Annotated[str | None, typer.Option(help="Continue this conversation thread.")] = None,
    verbose: VerboseOption = False,
    memory: MemoryOption = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the RunResult as JSON.")] = False,
    who: AsOption = None,
    policy: PolicyOption = None,
    mcp: MCPOption = None,
) -> None:
    """Run one request to its end and print the answer."""
    from rich.console import Console

    from podium.inputs import request_text

    text = read_request(request, file)
    request_text(text)  # an empty request is refused before anything heavy loads
    checked = checked_policy(policy, who)
    agent, principal = build_agent(memory, checked, mcp), checked.principal
    thread = thread or uuid.uuid4().hex  # named here, so that Ctrl-C can name it
    try:
        with kept_when_interrupted():
            if as_json:
                result = agent.invoke(text, thread_id=thread, principal=principal)
                print(result.model_dump_json(indent=2, exclude={"events"}))
                raise typer.Exit(EXIT_OK if done(result, agent.uses_router) else EXIT_FAILED)
            result = run_one(agent, text, thread, verbose, Console(), principal)
    except KeyboardInterrupt:
        interrupted(thread)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    raise typer.Exit(exit_code(result, agent.uses_router))


def resume(
    thread: Annotated[str, typer.Argument(help="The thread whose run to continue.")],
    verbose: VerboseOption = False,
    memory: MemoryOption = True,
    who: AsOption = None,
    policy: PolicyOption = None,
    mcp: MCPOption = None,
) -> None:
    """Continue a thread's run that was interrupted, or that waits for approval."""
    from rich.console import Console

    from podium.errors import InvalidRequest
    from podium.loop import run_sync

    checked = checked_policy(policy, who)
    agent, principal = build_agent(memory, checked, mcp), checked.principal
    view = run_sync(agent.athread(thread))
    if not view.exists:
        raise InvalidRequest(f"there is no thread {thread!r}", "see 'podium threads list'")
    if not view.unfinished:
        raise InvalidRequest(
            f"thread {thread} has nothing to resume: its last run ended ({view.stop_reason})",
            f'continue the conversation with: podium run --thread {thread} "..."',
        )
    console = Console()
    decisions = None
    try:
        with kept_when_interrupted():
            if view.waiting:
                decisions = ask(view.waiting, console)
            items = resumed(agent, thread, decisions, principal)
            result, streamed = shown_run(items, verbose, console, agent.uses_router)
            result = decided(agent, result, verbose, console, principal, streamed)
    except KeyboardInterrupt:
        interrupted(thread)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    raise typer.Exit(exit_code(result, agent.uses_router))


def tools(
    as_json: Annotated[bool, typer.Option("--json", help="Print the schemas as JSON.")] = False,
    memory: MemoryOption = True,
    mcp: MCPOption = None,
) -> None:
    """List the tools the agent can call (those of run, chat and serve), with parameters."""
    from rich.console import Console

    from podium.cli.common import tool_registry
    from podium.cli.render import tools_table

    registry = tool_registry(memory, mcp)  # no agent: listing needs no model, guards or store
    if as_json:
        print(json.dumps(registry.schemas(), indent=2))
        return
    Console().print(tools_table(registry))
