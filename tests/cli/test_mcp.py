"""`podium mcp` as a process, reached with podium's own MCP client (podium.tools.mcp)."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from podium.tools.mcp import MCPServer
from tests.servers import free_port, wait_for_port


def test_podium_mcp_over_stdio_answers_and_offers_its_tools(isolated: Path) -> None:
    command = f"{shlex.quote(sys.executable)} -m podium.cli mcp --no-memory --tools"
    with MCPServer(command, env={**os.environ, "PODIUM_HOME": str(isolated)}) as server:
        tools = {tool.name: tool for tool in server.tools()}
        answer = asyncio.run(tools["ask"].function(request="what is 6 * 7"))
        direct = asyncio.run(tools["calculator"].function(expression="2 + 3"))
    assert {"ask", "calculator", "current_time"} <= set(tools)
    assert "42" in answer["answer"] and answer["stop_reason"] == "answered"
    assert str(direct).strip().endswith("5")


@pytest.mark.slow
def test_podium_mcp_over_http_needs_a_token_beyond_loopback(isolated: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "podium.cli", "mcp", "--no-memory"]
    env = {**os.environ, "PODIUM_HOME": str(isolated)}
    refused = subprocess.run(
        [*command, "--http", f"0.0.0.0:{port}"], capture_output=True, text=True, env=env
    )
    assert refused.returncode == 2 and "without tokens" in refused.stderr
    process = subprocess.Popen(
        [*command, "--http", f"127.0.0.1:{port}"], stderr=subprocess.PIPE, env=env
    )
    try:
        wait_for_port(port, process, seconds=60)
        with MCPServer(f"http://127.0.0.1:{port}/mcp") as server:
            [ask] = server.tools()
            answer = asyncio.run(ask.function(request="what is 6 * 7"))
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "42" in answer["answer"]
