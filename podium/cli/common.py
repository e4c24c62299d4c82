"""What the commands share: one-line errors, the agent the CLI builds, the common options."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.markup import escape  # typer loads rich already; text is never markup

if TYPE_CHECKING:
    from rich.console import Console

    from podium.agent import Agent
    from podium.config import Settings
    from podium.guardrails.policy import Policy
    from podium.identity import Principal
    from podium.memory.store import MemoryStore
    from podium.tools.registry import ToolRegistry

ROUTER_NOTICE = (
    "offline router model: no LLM configured (it matches requests to tools and cannot reason; "
    "set OPENAI_API_KEY or OPENAI_BASE_URL, and PODIUM_MODEL, to plan with an LLM)"
)
state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])

# The exit codes of every command (the README's table).
EXIT_OK = 0  # done: the run answered with a result, the check passed
EXIT_FAILED = 1  # it ran and did not do what was asked: stopped, unanswered, calls failed
EXIT_USAGE = 2  # it could not start: bad arguments, configuration, model, home or request
EXIT_INTERRUPTED = 130  # Ctrl-C


def stderr() -> Console:
    """A console on standard error."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)  # an error stays one line, however long


def handles_errors(command: F) -> F:
    """Show podium's errors as one line with the fix, and anything else without a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import click

        from podium.errors import PodiumError

        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise  # typer shows usage errors itself (exit 2)
        except KeyboardInterrupt:
            stderr().print("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except PodiumError as error:
            if state["debug"]:
                raise
            fail(error.problem, error.fix)
        except OSError as error:  # a file or directory podium was pointed at
            if state["debug"]:
                raise
            where = f" {error.filename}" if error.filename else ""
            fail(
                f"cannot use{where}: {error.strerror or error}",
                "check the path and its permissions (PODIUM_HOME must be a directory you "
                "can write to)",
            )
        except Exception as error:
            if state["debug"]:
                raise
            stderr().print(
                f"[red]error:[/] unexpected {type(error).__name__}: {escape(str(error))} "
                "(run with --debug for the traceback)",
                highlight=False,
            )
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper  # type: ignore[return-value]


def fail(problem: str, fix: str = "", code: int = EXIT_USAGE) -> NoReturn:
    """Print one error line and its fix on standard error, and exit with ``code``."""
    console = stderr()
    console.print(f"[red]error:[/] {escape(problem)}", highlight=False)
    if fix:
        console.print(f"  fix: {escape(fix)}", highlight=False)
    raise typer.Exit(code)


def warn(text: str) -> None:
    """One warning line on standard error."""
    stderr().print(f"[yellow]warning:[/] {escape(text)}", highlight=False)


@dataclass(frozen=True)
class Checked:
    """What a command's settings, policy file and ``--as`` came to, checked before it builds.

    ``build_agent`` builds from these ``settings`` and ``policy`` (loaded once per command);
    the command acts as ``principal``, or as ``local`` when it is None.
    """

    settings: Settings
    policy: Policy | None
    principal: Principal | None


def checked_policy(policy: Path | None, who: str | None, acting: bool = True) -> Checked:
    """The settings, the policy file read and ``--as`` checked, before anything heavy loads.

    A bad policy file or an unknown principal is then reported in a fraction of a second,
    not after the model, guards and memory are built. A name (``--as`` or PODIUM_PRINCIPAL)
    needs a policy file to describe it; a policy with no name given acts as ``local``,
    which is denied everything unless the file lists it: both are said at once. A command
    not ``acting`` as anyone (the worker runs each job as the job's principal) looks up no
    principal.
    """
    from podium.config import Settings
    from podium.guardrails.policy import Policy

    settings = Settings.load()
    path = policy or settings.policy
    loaded = Policy.load(Path(path).expanduser()) if path is not None else None
    if not acting:
        return Checked(settings, loaded, None)
    given = "--as" if who else "PODIUM_PRINCIPAL"
    return Checked(settings, loaded, _acting_as(loaded, who or settings.principal, given))


def _acting_as(policy: Policy | None, name: str | None, given: str) -> Principal | None:
    if name and policy is None:
        raise _no_policy_file(name, given)
    if name and policy is not None:
        return policy.principal(name)  # an unknown name: the error names the file and a near name
    if policy is not None and policy.lists_principals and "local" not in policy.rules.principals:
        known = sorted(policy.rules.principals)
        warn(
            "no --as given: acting as 'local', which the policy does not list, so every tool "
            f"call will be denied; pass --as NAME ({', '.join(known)}) or set PODIUM_PRINCIPAL"
        )
    return None


def build_agent(
    memory: bool,
    checked: Checked,
    mcp: list[str] | None = None,
    notice: bool = True,
) -> Agent:
    """The agent the commands run: memory, MCP tools, built-ins and plugins.

    It is built from the settings and policy ``checked_policy`` loaded. With ``notice``,
    says on standard error when the offline router model answers.
    """
    from podium.agent import Agent
    from podium.planner.models import resolve_model

    settings = checked.settings
    store = None
    if memory and settings.memory:
        store = memory_store(settings)
    # The router routes by words alone here, memory or not: the same request picks the same
    # tool with --memory and --no-memory (RouterChatModel(embedder=...) routes semantically).
    model = resolve_model(settings)
    tools = []
    if mcp or settings.mcp_servers:
        from podium.tools.mcp import mcp_tools

        tools = mcp_tools(*settings.mcp_servers, *(mcp or []))
    agent = Agent(
        tools, settings=settings, model=model, memory=store, builtins=True, policy=checked.policy
    )
    for problem in agent.registry.load_plugins():
        warn(problem)
    if agent.uses_router and notice:
        stderr().print(f"[dim]{escape(ROUTER_NOTICE)}[/]", highlight=False)
    return agent


def tool_registry(memory: bool, mcp: list[str] | None = None) -> ToolRegistry:
    """The tools ``build_agent`` gives the agent, in its order, without building one.

    Built-ins (with the memory tools when memory is on), MCP tools, then plugins.
    """
    from podium.config import Settings
    from podium.tools.builtin import builtin_tools
    from podium.tools.registry import ToolRegistry

    settings = Settings.load()
    registry = ToolRegistry()
    for builtin in builtin_tools(memory=memory and settings.memory):
        registry.register(builtin)
    if mcp or settings.mcp_servers:
        from podium.tools.mcp import mcp_tools

        for item in mcp_tools(*settings.mcp_servers, *(mcp or [])):
            registry.register(item)
    for problem in registry.load_plugins():
        warn(problem)
    return registry


def _no_policy_file(name: str, given: str) -> Exception:
    from podium.errors import ConfigError

    return ConfigError(
        f"{given} {name} names a principal of a policy file, and no policy file is given",
        f"pass --policy FILE (or set PODIUM_POLICY) with {name} under principals, or drop {given}",
    )


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
    """Where the audit log lives (PODIUM_HOME must be a directory, if it exists)."""
    from podium.config import Settings
    from podium.errors import HomeNotWritable

    home = Settings.load().home_dir
    if home.exists() and not home.is_dir():
        raise HomeNotWritable(
            f"PODIUM_HOME {home} is not a directory", "set PODIUM_HOME to a directory"
        )
    return home / "audit"


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
