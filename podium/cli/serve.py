"""`podium serve`: the agent over HTTP with its triggers.

Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Annotated

import typer

from podium.cli.common import build_agent, checked_policy, stderr
from podium.cli.worker import DatabaseOption, use_database
from podium.errors import ConfigError


def serve_command(
    host: Annotated[str, typer.Option(help="Listen on this address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen on this port.")] = 8000,
    triggers: Annotated[
        Path | None, typer.Option(help="A triggers file (YAML): schedules and events.")
    ] = None,
    tokens: Annotated[
        Path | None,
        typer.Option(help="Bearer tokens: lines of 'TOKEN PRINCIPAL' (needed beyond loopback)."),
    ] = None,
    memory: Annotated[bool, typer.Option("--memory/--no-memory", help="Long-term memory.")] = True,
    who: Annotated[
        str | None, typer.Option("--as", help="Act as this principal when no tokens are set.")
    ] = None,
    policy: Annotated[Path | None, typer.Option(help="A policy file (YAML or TOML).")] = None,
    mcp: Annotated[
        list[str] | None, typer.Option("--mcp", help="Add an MCP server's tools (repeatable).")
    ] = None,
    reports: Annotated[
        Path | None,
        typer.Option(help="A directory of eval reports (HTML) for the web page to show."),
    ] = None,
    database_url: DatabaseOption = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="A line per HTTP request.")
    ] = True,
) -> None:
    """Serve the web page, invoke, stream, approvals, AG-UI and A2A over HTTP; run triggers.

    With a database URL (PODIUM_DATABASE_URL or --database-url), runs go to the job queue
    in Postgres and `podium worker` processes carry them out; without one, they run here.
    """
    use_database(database_url)
    checked = checked_policy(policy, who)  # a bad file or --as is said before the server loads
    import uvicorn

    from podium.server.app import check_exposure, create_app, read_tokens
    from podium.server.triggers import Triggers

    bearer = read_tokens(tokens) if tokens else None
    check_exposure(host, bearer)
    listening = listen(host, port)  # a busy port is said before anything is built
    agent = build_agent(memory, checked, mcp)
    loaded = Triggers.load(agent, triggers) if triggers else None
    if reports is not None and not reports.is_dir():
        raise ConfigError(f"reports directory {reports} does not exist", "check the path")
    app = create_app(agent, loaded, bearer, checked.principal, reports=reports)
    scheduled = len(loaded.schedules) if loaded else 0
    events = len(loaded.events) if loaded else 0
    queue = app.state.service.queue
    where = f"runs to the job queue in {agent.storage!r}" if queue else "runs here"
    stderr().print(
        f"[dim]serving on http://{host}:{port} · {plural(scheduled, 'schedule')} · "
        f"{plural(events, 'event trigger')} · "
        f"{'tokens' if bearer else 'no tokens (loopback only)'} · {where}[/]"
    )
    config = uvicorn.Config(app, log_level="warning")
    show_log(access_log)
    uvicorn.Server(config).run(sockets=[listening])


def show_log(access_log: bool) -> None:
    """One line per request (uvicorn's access log) and per trigger firing, on standard error.

    uvicorn's own start-up chatter stays at warnings: the "serving on" line says it all.
    """
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    for name, on in (("uvicorn.access", access_log), ("podium.server.triggers", True)):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO if on else logging.WARNING)
        if name == "podium.server.triggers":
            logger.addHandler(handler)
            logger.propagate = False


def plural(count: int, thing: str) -> str:
    """'1 schedule', '2 schedules'."""
    return f"{count} {thing}{'' if count == 1 else 's'}"


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port``; a port in use is one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host.strip("[]"), port))
        listening.listen(2048)
    except OSError as error:
        listening.close()
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use",
                f"stop what listens there, or pass another port (--port {port + 1})",
            ) from None
        raise ConfigError(
            f"cannot listen on {host}:{port}: {error.strerror or error}",
            "pass an address of this machine (--host) and a free port (--port)",
        ) from None
    listening.set_inheritable(True)
    return listening
