"""Tools from a real local MCP server, over stdio and streamable HTTP, through guards and policy."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage, ToolMessage

from podium.agent import Agent
from podium.errors import ConfigError
from podium.guardrails.policy import Policy
from podium.identity import Principal
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.mcp import MCPServer, MCPToolError, mcp_tools
from tests.servers import free_port, serving

SERVER = Path(__file__).with_name("mcp_server.py")
STDIO = f"{sys.executable} {SERVER} stdio"


@pytest.fixture
def stdio_server() -> Iterator[MCPServer]:
    with MCPServer(STDIO, name="orders") as server:
        yield server


def tool_messages(messages: list[BaseMessage]) -> list[str]:
    return [str(m.content) for m in messages if isinstance(m, ToolMessage)]


def test_the_servers_tools_join_with_their_schemas_and_annotations(
    stdio_server: MCPServer,
) -> None:
    tools = {t.name: t for t in stdio_server.tools()}
    assert set(tools) == {"order_status", "cancel_order", "meet", "crash", "fetch_note"}
    status = tools["order_status"]
    assert status.parameters_schema()["required"] == ["order_id"]
    assert status.risk == "low" and not status.side_effects and status.repeatable
    assert tools["cancel_order"].risk == "high" and tools["cancel_order"].side_effects
    assert "mcp" in status.tags and "mcp:orders" in status.tags


def test_the_offline_router_calls_an_mcp_tool_over_stdio(stdio_server: MCPServer) -> None:
    agent = Agent(stdio_server.tools())
    result = agent.invoke("What is the status of order A-2?")
    assert result.ok, result.answer
    assert [c["name"] for c in result.tool_calls] == ["order_status"]
    assert "packing" in result.answer


def test_the_same_tools_work_over_streamable_http() -> None:
    port = free_port()
    with serving([sys.executable, str(SERVER), "http", str(port)], port):
        with MCPServer(f"http://127.0.0.1:{port}/mcp", prefix="shop") as server:
            agent = Agent(server.tools())
            assert "shop_order_status" in agent.registry
            result = agent.invoke("What is the status of order A-1?")
    assert result.ok, result.answer
    assert "shipped" in result.answer


def test_calls_in_one_round_overlap(stdio_server: MCPServer) -> None:
    stdio_server.tools()

    async def four() -> list[object]:
        return list(
            await asyncio.gather(*(stdio_server.call("meet", {"text": str(i)}) for i in range(4)))
        )

    # Each call answers only once all four are in progress at the server at the same time
    # (a barrier, not a clock): calls made one after another would each answer "alone".
    assert asyncio.run(four()) == ["0", "1", "2", "3"]


def test_a_server_that_dies_mid_call_fails_that_call_and_the_run_goes_on(
    stdio_server: MCPServer,
) -> None:
    model = ScriptedChatModel(
        turns=[
            calls(call("crash", "c1")),
            calls(call("order_status", "c2", order_id="A-1")),
            lambda messages: f"after the crash: {tool_messages(messages)[-1]}",
        ],
        model="scripted-mcp-planner",
    )
    agent = Agent(stdio_server.tools(), model=model)
    result = agent.invoke("crash, then look up A-1")
    assert result.ok, result.answer
    crash, status = result.tool_calls
    assert crash["name"] == "crash" and crash["status"] == "error"
    assert "failed during crash" in crash["output"]
    assert status["status"] == "ok" and "shipped" in result.answer  # the next call reconnected


def test_an_error_the_server_reports_reaches_the_planner_as_a_tool_message(
    stdio_server: MCPServer,
) -> None:
    stdio_server.tools()
    with pytest.raises(MCPToolError, match="no order Z-9"):
        asyncio.run(stdio_server.call("order_status", {"order_id": "Z-9"}))


def test_mcp_output_passes_the_output_screen(stdio_server: MCPServer) -> None:
    model = ScriptedChatModel(
        turns=[calls(call("fetch_note", "c1")), lambda messages: tool_messages(messages)[-1]],
        model="scripted-mcp-planner",
    )
    result = Agent(stdio_server.tools(), model=model).invoke("read the note")
    assert "evil@example.com" not in result.answer
    assert "withheld" in result.answer


def test_policy_applies_to_mcp_tools(stdio_server: MCPServer, tmp_path: Path) -> None:
    rules = tmp_path / "policy.yaml"
    rules.write_text(
        "roles:\n  clerk: {scopes: [orders.read]}\n"
        "principals:\n  ann: {roles: [clerk]}\n"
        "tools:\n  cancel_order: {scopes: [orders.write]}\n"
        "  order_status: {scopes: [orders.read]}\n"
    )
    model = ScriptedChatModel(
        turns=[
            calls(
                call("cancel_order", "c1", order_id="A-2"),
                call("order_status", "c2", order_id="A-2"),
            ),
            lambda messages: " | ".join(tool_messages(messages)),
        ],
        model="scripted-mcp-planner",
    )
    agent = Agent(stdio_server.tools(), model=model, policy=Policy.load(rules))
    result = agent.invoke("cancel A-2", principal=Principal(id="ann"))
    cancel, status = result.tool_calls
    assert cancel["status"] == "denied" and "needs scope orders.write" in cancel["output"]
    assert (
        status["status"] == "ok" and "packing" in result.answer
    )  # the cancel never reached the server


def test_a_server_that_cannot_start_is_named_with_the_fix() -> None:
    with pytest.raises(ConfigError, match="cannot connect to MCP server 'no-such-server'"):
        mcp_tools(
            MCPServer("no-such-server-command --stdio", name="no-such-server", connect_timeout=10)
        )


def test_asking_for_a_tool_the_server_lacks_names_what_it_offers(stdio_server: MCPServer) -> None:
    stdio_server.include = ["order_status", "refund"]
    with pytest.raises(ConfigError, match=r"has no tool refund.*it offers: order_status"):
        stdio_server.tools()


def test_the_cli_adds_mcp_tools_and_names_a_server_that_does_not_start() -> None:
    from typer.testing import CliRunner

    from podium.cli.main import app

    runner = CliRunner()
    listed = runner.invoke(app, ["tools", "--json", "--mcp", STDIO])
    assert listed.exit_code == 0, listed.output
    names = {schema["function"]["name"] for schema in json.loads(listed.stdout)}
    assert {"order_status", "calculator"} <= names
    answered = runner.invoke(app, ["run", "--no-memory", "--mcp", STDIO, "status of order A-1?"])
    assert answered.exit_code == 0 and "shipped" in answered.stdout
    broken = runner.invoke(app, ["tools", "--mcp", "no-such-mcp-command"])
    assert broken.exit_code != 0
    assert "cannot connect to MCP server" in broken.output and "Traceback" not in broken.output
