"""MCP server mode (``podium mcp``): the agent as an MCP tool, over stdio or streamable HTTP.

The tool ``ask`` takes a request (and optionally a thread id, to continue a conversation)
and returns the agent's answer with how its run ended. With ``tools=True`` the agent's own
tools are offered too; each call of one is a run of its own whose plan is that one call,
so it passes the same input screen, policy, argument screens, approvals, output screens
and audit log as any call the planner makes.

Who is calling: over HTTP with tokens, each request needs ``Authorization: Bearer TOKEN``
(401 otherwise, before the MCP layer sees it) and acts as the token's principal; without
tokens (loopback only) and over stdio, the server acts as one principal (``--as``).
Threads live in the principal's namespace, as with ``podium serve``.
"""

from __future__ import annotations

import inspect
import json
import uuid
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from podium.errors import PodiumError
from podium.identity import Principal, namespaced
from podium.inputs import thread_named
from podium.server.auth import BearerOnly, Gate
from podium.server.limits import ASGIApp

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.results import RunResult
    from podium.tools.registry import Tool

INSTRUCTIONS = (
    "podium, an orchestration agent: `ask` hands it a request and returns its answer. Pass "
    "the thread_id it returns to continue the same conversation."
)


class Waiting(BaseModel):
    """A call the run waits on: a person with ``approve:<tool>`` decides it."""

    call_id: str
    tool: str
    arguments: dict[str, Any]
    reason: str


class Answer(BaseModel):
    """What ``ask`` returns: the answer, why the run stopped, where to continue."""

    answer: str
    stop_reason: str
    thread_id: str
    trace_id: str
    waiting: list[Waiting] = []


def mcp_server(
    agent: Agent, gate: Gate | None = None, principal: Principal | None = None, tools: bool = False
) -> MCPServer:
    """An MCP server whose tool ``ask`` runs ``agent`` (and, with ``tools``, its own tools)."""
    gate = gate or Gate(agent.policy, None, principal)
    server: MCPServer = MCPServer("podium", instructions=INSTRUCTIONS, log_level="WARNING")

    async def ask(request: str, ctx: Context, thread_id: str | None = None) -> Answer:
        """Ask the podium agent to carry out a request; returns its answer.

        Args:
            request: What to do, in plain words.
            thread_id: A thread id returned before, to continue that conversation.
        """
        who = _caller(gate, ctx)
        try:
            named = thread_named(thread_id, "thread_id") if thread_id else uuid.uuid4().hex
        except PodiumError as error:
            raise ToolError(str(error)) from None
        result = await _run(agent.ainvoke(request, namespaced(who.id, named), who))
        return _answer(result, named)

    server.tool(name="ask")(ask)
    if tools:
        for tool in agent.registry:
            server.tool(name=tool.name, description=tool.description)(_direct(agent, gate, tool))
    return server


def _caller(gate: Gate, ctx: Context) -> Principal:
    """The principal of this request: its token's over HTTP, the server's own otherwise."""
    headers = ctx.headers
    header = headers.get("authorization") if headers is not None else None
    if not gate.tokens:
        return gate.caller(None)
    return gate.caller(header)


async def _run(work: Any) -> RunResult:
    """Await a run; podium's errors reach the client as tool errors with their fix."""
    try:
        result: RunResult = await work
    except PodiumError as error:
        raise ToolError(str(error)) from None  # (the problem, and its fix)
    return result


def _answer(result: RunResult, thread: str) -> Answer:
    return Answer(
        answer=result.answer,
        stop_reason=result.stop_reason,
        thread_id=thread,
        trace_id=result.trace_id,
        waiting=[
            Waiting(call_id=w.call_id, tool=w.tool, arguments=w.arguments, reason=w.reason)
            for w in result.pending_approvals
        ],
    )


def _direct(agent: Agent, gate: Gate, tool: Tool) -> Any:
    """An MCP tool function for ``tool``: each call is a one-call run of the agent."""

    async def call(ctx: Context, **arguments: Any) -> str:
        who = _caller(gate, ctx)
        runner = _one_call_agent(agent, tool.name, arguments)
        request = f"call the tool {tool.name} with {json.dumps(arguments, default=str)}"
        named = f"mcp-{tool.name}-{uuid.uuid4().hex[:12]}"
        result = await _run(runner.ainvoke(request, namespaced(who.id, named), who))
        outcome = next(iter(result.tool_calls), None)
        if result.pending_approvals:
            raise ToolError(f"{tool.name} waits for approval in thread {named}: {result.answer}")
        if outcome is None or outcome["status"] != "ok":
            raise ToolError(result.answer if outcome is None else outcome["output"])
        return outcome["output"]

    # The MCP SDK reads a tool's parameters from its signature: give this one the tool's.
    fields = tool.arguments.model_fields
    parameters = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    for name, info in fields.items():
        default = inspect.Parameter.empty if info.is_required() else info.default
        parameters.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, annotation=info.annotation, default=default
            )
        )
    call.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]
    call.__annotations__ = {
        "ctx": Context,
        **{n: i.annotation for n, i in fields.items()},
        "return": str,
    }
    call.__name__ = tool.name
    return call


def _one_call_agent(agent: Agent, name: str, arguments: dict[str, Any]) -> Agent:
    """The agent with a plan of exactly one call (then its output as the answer)."""
    from podium.agent import Agent
    from podium.planner.models.scripted import ScriptedChatModel, call, calls

    def output(messages: list[Any]) -> str:
        return str(messages[-1].content)

    model = ScriptedChatModel(turns=[calls(call(name, "direct", **arguments)), output])
    return Agent(
        list(agent.registry),
        model=model,
        guards=agent.screens,
        policy=agent.policy,
        settings=agent.settings,
        limits=agent.limits,
        sandbox=agent.sandbox,
        sinks=agent.sinks,
        storage=agent.storage,
        compensate_on_failure=agent.compensate_on_failure,
    )


def mcp_http_app(server: MCPServer, gate: Gate, host: str = "127.0.0.1") -> ASGIApp:
    """The streamable HTTP app of ``server`` at ``/mcp``, behind the bearer tokens."""
    app: ASGIApp = server.streamable_http_app(streamable_http_path="/mcp", host=host)
    return BearerOnly(app, gate)
