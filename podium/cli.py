"""The command line: a thin typer layer over Agent.invoke(); heavy imports stay inside commands."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape  # typer loads rich already; text is never markup

if TYPE_CHECKING:
    from rich.console import Console

    from podium.agent import Agent
    from podium.config import Settings
    from podium.guardrails.policy import Principal
    from podium.memory.store import MemoryStore
    from podium.planner.approvals import Approval
    from podium.results import RunResult

app = typer.Typer(
    name="podium",
    help="An orchestration agent: plans, calls tools, screens everything, remembers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}
ROUTER_NOTICE = "offline router model: no LLM configured"
F = TypeVar("F", bound=Callable[..., Any])


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)  # an error stays one line, however long


def handles_errors(command: F) -> F:
    """Show podium's errors as one line with the fix, and anything else without a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from podium.errors import PodiumError

        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            _stderr().print("interrupted")
            raise typer.Exit(130) from None
        except PodiumError as error:
            if _state["debug"]:
                raise
            console = _stderr()
            console.print(f"[red]error:[/] {escape(error.problem)}", highlight=False)
            if error.fix:
                console.print(f"  fix: {escape(error.fix)}", highlight=False)
            raise typer.Exit(2) from None
        except Exception as error:
            if _state["debug"]:
                raise
            _stderr().print(
                f"[red]error:[/] unexpected {type(error).__name__}: {escape(str(error))} "
                "(run with --debug for the traceback)",
                highlight=False,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """An orchestration agent: plans, calls tools, screens everything, remembers."""
    _state["debug"] = debug or os.environ.get("PODIUM_DEBUG") == "1"


def _agent(memory: bool, policy: Path | None = None, mcp: list[str] | None = None) -> Agent:
    from podium.agent import Agent
    from podium.config import Settings
    from podium.planner.models import resolve_model

    settings = Settings.load()
    store = None
    if memory and settings.memory:
        store = _store(settings)
    model = resolve_model(settings, store.embedder if store else None)
    tools = []
    if mcp or settings.mcp_servers:
        from podium.tools.mcp import mcp_tools

        tools = mcp_tools(*settings.mcp_servers, *(mcp or []))
    agent = Agent(tools, settings=settings, model=model, memory=store, builtins=True, policy=policy)
    for problem in agent.registry.load_plugins():
        _stderr().print(f"[yellow]warning:[/] {escape(problem)}", highlight=False)
    if agent.uses_router:
        _stderr().print(f"[dim]{ROUTER_NOTICE}[/]")
    return agent


def _principal(agent: Agent, who: str | None) -> Principal | None:
    """The principal named by --as (or PODIUM_PRINCIPAL), as the policy file describes it."""
    name = who or agent.settings.principal
    return agent.policy.principal(name) if name else None


def _run_one(
    agent: Agent,
    request: str,
    thread: str | None,
    verbose: bool,
    console: Console,
    principal: Principal | None = None,
) -> str:
    from podium.render import event_line, show_result
    from podium.results import RunResult

    result: RunResult | None = None
    for item in agent.stream(request, thread_id=thread, principal=principal):
        if isinstance(item, RunResult):
            result = item
        elif verbose and (line := event_line(item)):
            console.print(line, highlight=False)
    assert result is not None  # stream always ends with the result
    while result.stop_reason == "awaiting_approval":
        result = agent.resume(result.thread_id, _ask(result, console))
    show_result(console, result, verbose)
    if not result.ok:
        _stderr().print(f"[yellow]stopped:[/] {result.stop_reason}", highlight=False)
    return result.stop_reason


def _ask(result: RunResult, console: Console) -> dict[str, bool | Approval]:
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


MemoryOption = Annotated[bool, typer.Option("--memory/--no-memory", help="Long-term memory.")]
AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Act as this principal of the policy file (default: local)."),
]
PolicyOption = Annotated[
    Path | None, typer.Option("--policy", help="A policy file (YAML or TOML).")
]
MCPOption = Annotated[
    list[str] | None,
    typer.Option("--mcp", help="Add an MCP server's tools: a URL or a command (repeatable)."),
]


@app.command()
@handles_errors
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

    agent = _agent(memory, policy, mcp)
    principal = _principal(agent, who)
    if as_json:
        result = agent.invoke(request, thread_id=thread, principal=principal)
        print(result.model_dump_json(indent=2, exclude={"events"}))
        raise typer.Exit(0 if result.ok else 1)
    stop_reason = _run_one(agent, request, thread, verbose, Console(), principal)
    raise typer.Exit(0 if stop_reason == "answered" else 1)


@app.command()
@handles_errors
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

    from podium.errors import InvalidRequest
    from podium.render import tools_table

    console = Console()
    agent = _agent(memory, policy, mcp)
    principal = _principal(agent, who)
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
            _run_one(agent, line, thread_id, verbose, console, principal)
        except InvalidRequest as error:  # the thread stays usable after a bad request
            console.print(f"[red]error:[/] {escape(str(error))}", highlight=False)


@app.command()
@handles_errors
def tools(
    as_json: Annotated[bool, typer.Option("--json", help="Print the schemas as JSON.")] = False,
    mcp: MCPOption = None,
) -> None:
    """List the tools the agent can call, with their parameters."""
    from rich.console import Console

    from podium.render import tools_table

    agent = _agent(memory=False, mcp=mcp)
    if as_json:
        print(json.dumps(agent.registry.schemas(), indent=2))
        return
    Console().print(tools_table(agent.registry))


memory_app = typer.Typer(help="Long-term memory: add, search, forget, stats.", no_args_is_help=True)
app.add_typer(memory_app, name="memory")
TenantOption = Annotated[str, typer.Option("--tenant", help="The namespace (tenant).")]


def _store(settings: Settings | None = None) -> MemoryStore:
    from podium.config import Settings
    from podium.memory.embeddings import embedder_from
    from podium.memory.store import MemoryStore

    settings = settings or Settings.load()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    embedder = embedder_from(settings.embedder, key, settings.openai_base_url)
    return MemoryStore(settings.ensure_home() / "memory", embedder, url=settings.chroma_url)


@memory_app.command("add")
@handles_errors
def memory_add(
    text: Annotated[str, typer.Argument(help="What to remember.")],
    tenant: TenantOption = "default",
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeatable).")] = None,
    ttl: Annotated[float | None, typer.Option(help="Forget after this many seconds.")] = None,
) -> None:
    """Remember a text."""
    memory_id = _store().remember(text, tenant, {"source": "cli"}, tags=tag or (), ttl_seconds=ttl)
    print(memory_id)


@memory_app.command("search")
@handles_errors
def memory_search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    tenant: TenantOption = "default",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 5,
) -> None:
    """The memories closest to a query."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"memories of {tenant!r}")
    for column in ("id", "similarity", "text"):
        table.add_column(column, overflow="fold")
    for memory in _store().recall(query, tenant, limit):
        table.add_row(memory.id, f"{memory.similarity:.3f}", escape(memory.text))
    Console().print(table)


@memory_app.command("forget")
@handles_errors
def memory_forget(
    memory_id: Annotated[str | None, typer.Argument(help="The memory's id.")] = None,
    tenant: TenantOption = "default",
    tag: Annotated[str | None, typer.Option(help="Forget every memory with this tag.")] = None,
    thread: Annotated[str | None, typer.Option(help="Forget what this thread left.")] = None,
    expired: Annotated[bool, typer.Option("--expired", help="Purge expired memories.")] = False,
) -> None:
    """Forget one memory, the memories of a tag or thread, or the expired ones."""
    store = _store()
    if expired:
        print(f"{store.purge_expired(tenant)} expired pieces removed")
    elif memory_id:
        store.forget(memory_id, tenant)
        print(f"forgot {memory_id}")
    else:
        print(f"{store.forget_where(tenant, thread=thread, tag=tag)} pieces removed")


@memory_app.command("stats")
@handles_errors
def memory_stats() -> None:
    """Pieces stored per namespace."""
    for namespace, count in sorted(_store().stats().items()):
        print(f"{namespace}\t{count}")


trace_app = typer.Typer(help="Runs recorded in the audit log.", no_args_is_help=True)
app.add_typer(trace_app, name="trace")


def _audit_directory() -> Path:
    from podium.config import Settings

    return Settings.load().home_dir / "audit"


@trace_app.command("list")
@handles_errors
def trace_list(
    limit: Annotated[int, typer.Option(help="Show the newest N runs.")] = 20,
) -> None:
    """List recorded runs, newest last."""
    from rich.console import Console

    from podium.tracing.views import load_runs, runs_table

    Console().print(runs_table(load_runs(_audit_directory())[-limit:]))


@trace_app.command("show")
@handles_errors
def trace_show(
    run_id: Annotated[str, typer.Argument(help="A trace id, or its first characters.")],
) -> None:
    """Show one run as a tree: nodes with timings, model calls with tokens and cost."""
    from rich.console import Console

    from podium.tracing.views import find_run, load_runs, run_tree

    Console().print(run_tree(find_run(load_runs(_audit_directory()), run_id)))


@trace_app.command("verify")
@handles_errors
def trace_verify() -> None:
    """Check the audit log's hash chain: any edited, inserted or deleted record is named."""
    from rich.console import Console

    from podium.tracing.audit import verify

    result = verify(_audit_directory())
    console = Console(soft_wrap=True)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    for problem in result.problems:
        console.print(f"[red]broken:[/] {escape(problem)}", highlight=False)
    verdict = "intact" if result.intact else "TAMPERED"
    console.print(f"{result.records} records checked: {verdict}")
    raise typer.Exit(0 if result.intact else 1)


@app.command()
@handles_errors
def stats() -> None:
    """Runs, success rate, latency, tokens and cost by model and tool, guard decisions."""
    from rich.console import Console

    from podium.tracing.views import load_runs, stats_tables

    console = Console()
    for table in stats_tables(load_runs(_audit_directory())):
        console.print(table)


from podium.cli_eval import eval_command  # noqa: E402  (typer only: cheap)

app.command("eval")(handles_errors(eval_command))

from podium.cli_serve import serve_command  # noqa: E402  (typer only: cheap)

app.command("serve")(handles_errors(serve_command))


def main() -> None:
    """Entry point of the ``podium`` command."""
    app()


if __name__ == "__main__":
    main()
