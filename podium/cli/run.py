"""`podium run`, `podium chat` and `podium tools`: the agent at the terminal."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from podium.cli.common import (
    AsOption,
    MCPOption,
    MemoryOption,
    PolicyOption,
    build_agent,
    principal_for,
    stderr,
)

if TYPE_CHECKING:
    from rich.console import Console

    from podium.agent import Agent
    from podium.identity import Principal
    from podium.planner.approvals import Approval
    from podium.results import RunResult


def run_one(
    agent: Agent,
    request: str,
    thread: str | None,
    verbose: bool,
    console: Console,
    principal: Principal | None = None,
) -> str:
    """Run one request, asking at the terminal about calls that need approval.

    The answer is printed as the model writes it; text a guard then withholds or changes
    is followed by the answer as it stands.
    """
    from podium.cli.render import event_line, show_result
    from podium.results import RunResult
    from podium.tracing.events import ModelCalled
    from podium.tracing.live import TokensDiscarded, TokenStreamed

    result: RunResult | None = None
    written, open_line = "", False
    for item in agent.stream(request, thread_id=thread, principal=principal, mode="both"):
        if isinstance(item, RunResult):
            result = item
        elif isinstance(item, TokenStreamed):
            written += item.text
            open_line = True
            console.print(item.text, end="", markup=False, highlight=False)
        elif isinstance(item, TokensDiscarded):
            if open_line:
                console.print(f"\n[yellow]withdrawn:[/] {escape(item.reason)}", highlight=False)
            written, open_line = "", False
        elif verbose and (line := event_line(item)):
            if open_line:  # the model's text so far ends its line before the event
                console.print()
                open_line = False
            console.print(line, highlight=False)
        elif isinstance(item, ModelCalled) and item.tool_calls:
            written = ""  # text before a round of calls is not the answer
    assert result is not None  # stream always ends with the result
    if open_line:
        console.print()
    while result.stop_reason == "awaiting_approval":
        # The person at the terminal decides as the principal they act as (--as): under a
        # policy, that principal needs approve:<tool> like any other decider.
        result = agent.resume(result.thread_id, ask(result, console), decider=principal)
    show_result(console, result, verbose, answer_shown=bool(written) and written == result.answer)
    if not result.ok:
        stderr().print(f"[yellow]stopped:[/] {result.stop_reason}", highlight=False)
    return result.stop_reason


def ask(result: RunResult, console: Console) -> dict[str, bool | Approval]:
    """Ask the person at the terminal about each waiting call; no answer means no."""
    from podium.planner.approvals import Approval

    decisions: dict[str, bool | Approval] = {}
    for request in result.pending_approvals:
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


def run(
    request: Annotated[str, typer.Argument(help="What you want done.")],
    thread: Annotated[str | None, typer.Option(help="Continue this conversation thread.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every step.")] = False,
    memory: MemoryOption = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the RunResult as JSON.")] = False,
    who: AsOption = None,
    policy: PolicyOption = None,
    mcp: MCPOption = None,
) -> None:
    """Run one request to its end and print the answer."""
    from rich.console import Console

    agent = build_agent(memory, policy, mcp)
    principal = principal_for(agent, who)
    if as_json:
        result = agent.invoke(request, thread_id=thread, principal=principal)
        print(result.model_dump_json(indent=2, exclude={"events"}))
        raise typer.Exit(0 if result.ok else 1)
    stop_reason = run_one(agent, request, thread, verbose, Console(), principal)
    raise typer.Exit(0 if stop_reason == "answered" else 1)


def chat(
    thread: Annotated[str | None, typer.Option(help="Continue this conversation thread.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every step.")] = False,
    memory: MemoryOption = True,
    who: AsOption = None,
    policy: PolicyOption = None,
    mcp: MCPOption = None,
) -> None:
    """Talk with the agent in one thread: /new starts another, /tools lists tools, /quit ends."""
    import uuid

    from rich.console import Console

    from podium.cli.render import tools_table
    from podium.errors import InvalidRequest

    console = Console()
    agent = build_agent(memory, policy, mcp)
    principal = principal_for(agent, who)
    thread_id = thread or uuid.uuid4().hex
    console.print(f"[dim]thread {escape(thread_id)} · /new /tools /quit[/]")
    while True:
        try:
            line = console.input("[bold]you>[/] ")
        except EOFError:
            break
        command = line.strip()
        if command in ("/quit", "/exit"):
            break
        if command == "/new":
            thread_id = uuid.uuid4().hex
            console.print(f"[dim]new thread {thread_id}[/]")
            continue
        if command == "/tools":
            console.print(tools_table(agent.registry))
            continue
        if not command:
            continue
        try:
            run_one(agent, line, thread_id, verbose, console, principal)
        except InvalidRequest as error:  # the thread stays usable after a bad request
            console.print(f"[red]error:[/] {escape(str(error))}", highlight=False)


def tools(
    as_json: Annotated[bool, typer.Option("--json", help="Print the schemas as JSON.")] = False,
    mcp: MCPOption = None,
) -> None:
    """List the tools the agent can call, with their parameters."""
    from rich.console import Console

    from podium.cli.render import tools_table

    agent = build_agent(memory=False, mcp=mcp)
    if as_json:
        print(json.dumps(agent.registry.schemas(), indent=2))
        return
    Console().print(tools_table(agent.registry))
