"""`podium mcp`: the agent as an MCP server, over stdio (the default) or streamable HTTP.

Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from podium.cli.common import (
    AsOption,
    MCPOption,
    MemoryOption,
    PolicyOption,
    build_agent,
    checked_policy,
    stderr,
)
from podium.errors import ConfigError


def mcp_command(
    http: Annotated[
        str | None,
        typer.Option(
            "--http",
            metavar="HOST:PORT",
            help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.",
        ),
    ] = None,
    tokens: Annotated[
        Path | None,
        typer.Option(help="Bearer tokens for --http: lines of 'TOKEN PRINCIPAL'."),
    ] = None,
    tools: Annotated[
        bool,
        typer.Option(
            "--tools/--no-tools",
            help="Also offer the agent's own tools (each call passes its guards and policy).",
        ),
    ] = False,
    memory: MemoryOption = True,
    who: AsOption = None,
    policy: PolicyOption = None,
    mcp: MCPOption = None,
) -> None:
    """Serve the agent over MCP: a tool 'ask' that takes a request and returns the answer."""
    from podium.server.auth import Gate, check_exposure, read_tokens
    from podium.server.mcp import mcp_http_app, mcp_server

    if tokens is not None and http is None:
        raise ConfigError("--tokens is for --http", "pass --http HOST:PORT, or drop --tokens")
    bearer = read_tokens(tokens) if tokens else None
    host, port = _address(http) if http else ("", 0)
    if http:
        check_exposure(host, bearer)
    checked = checked_policy(policy, who)
    agent = build_agent(memory, checked, mcp)
    gate = Gate(agent.policy, bearer, checked.principal)
    gate.check()
    server = mcp_server(agent, gate, tools=tools)
    if not http:
        server.run("stdio")
        return
    import uvicorn

    from podium import known_secrets

    known_secrets.add(bearer or {})
    stderr().print(
        f"[dim]MCP on http://{host}:{port}/mcp · "
        f"{'tokens' if bearer else 'no tokens (loopback only)'}[/]"
    )
    uvicorn.run(mcp_http_app(server, gate, host), host=host, port=port, log_level="warning")


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"--http {text!r} is not HOST:PORT", "pass e.g. --http 127.0.0.1:8931"
        )
    return host.strip("[]"), int(port)
