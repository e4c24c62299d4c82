"""What the commands share: one-line errors, the agent the CLI builds, the common options."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape  # typer loads rich already; text is never markup

if TYPE_CHECKING:
    from rich.console import Console

    from podium.agent import Agent
    from podium.config import Settings
    from podium.identity import Principal
    from podium.memory.store import MemoryStore

ROUTER_NOTICE = "offline router model: no LLM configured"
state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])


def stderr() -> Console:
    """A console on standard error."""
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
            stderr().print("interrupted")
            raise typer.Exit(130) from None
        except PodiumError as error:
            if state["debug"]:
                raise
            console = stderr()
            console.print(f"[red]error:[/] {escape(error.problem)}", highlight=False)
            if error.fix:
                console.print(f"  fix: {escape(error.fix)}", highlight=False)
            raise typer.Exit(2) from None
        except Exception as error:
            if state["debug"]:
                raise
            stderr().print(
                f"[red]error:[/] unexpected {type(error).__name__}: {escape(str(error))} "
                "(run with --debug for the traceback)",
                highlight=False,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def build_agent(memory: bool, policy: Path | None = None, mcp: list[str] | None = None) -> Agent:
    """The agent the commands run: settings, memory, MCP tools, built-ins and plugins."""
    from podium.agent import Agent
    from podium.config import Settings
    from podium.planner.models import resolve_model

    settings = Settings.load()
    store = None
    if memory and settings.memory:
        store = memory_store(settings)
    model = resolve_model(settings, store.embedder if store else None)
    tools = []
    if mcp or settings.mcp_servers:
        from podium.tools.mcp import mcp_tools

        tools = mcp_tools(*settings.mcp_servers, *(mcp or []))
    agent = Agent(tools, settings=settings, model=model, memory=store, builtins=True, policy=policy)
    for problem in agent.registry.load_plugins():
        stderr().print(f"[yellow]warning:[/] {escape(problem)}", highlight=False)
    if agent.uses_router:
        stderr().print(f"[dim]{ROUTER_NOTICE}[/]")
    return agent


def principal_for(agent: Agent, who: str | None) -> Principal | None:
    """The principal named by --as (or PODIUM_PRINCIPAL), as the policy file describes it."""
    name = who or agent.settings.principal
    return agent.policy.principal(name) if name else None


def memory_store(settings: Settings | None = None) -> MemoryStore:
    """The long-term memory under the home directory (or the configured chroma server)."""
    from podium.config import Settings
    from podium.memory.embeddings import embedder_from
    from podium.memory.store import MemoryStore

    settings = settings or Settings.load()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    embedder = embedder_from(settings.embedder, key, settings.openai_base_url)
    return MemoryStore(settings.ensure_home() / "memory", embedder, url=settings.chroma_url)


def audit_directory() -> Path:
    """Where the audit log lives."""
    from podium.config import Settings

    return Settings.load().home_dir / "audit"


def audit_key() -> str | None:
    """The key the audit records are signed with (PODIUM_AUDIT_KEY), if any."""
    from podium.config import Settings

    key = Settings.load().audit_key
    return key.get_secret_value() if key else None


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
