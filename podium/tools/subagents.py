"""An Agent registered as a tool: delegation, with usage rolled up into the parent's run."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

from podium.errors import InvalidRequest
from podium.tools.outcomes import DelegatedReply
from podium.tools.registry import Tool, ToolContext, make_tool

if TYPE_CHECKING:
    from podium.agent import Agent

MAX_DEPTH = 4
SUBAGENT_TAG = "subagent"  # its messages also pass the "subagent" screen
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("podium_delegation_depth", default=0)


def agent_tool(agent: Agent, name: str, description: str, timeout: float | None = None) -> Tool:
    """A tool that runs ``agent`` on a request, in a thread of its own under the caller's."""

    async def delegate(request: str, context: ToolContext) -> DelegatedReply:
        depth = _depth.get()
        if depth >= MAX_DEPTH:
            raise InvalidRequest(
                f"delegation to '{name}' is {depth + 1} levels deep (agents calling each other "
                "in a cycle?)",
                f"keep delegation under {MAX_DEPTH} levels",
            )
        token = _depth.set(depth + 1)
        try:
            result = await agent.ainvoke(
                request, thread_id=f"{context.thread_id}/{name}", principal=context.principal
            )
        finally:
            _depth.reset(token)
        usage = result.usage
        return DelegatedReply(
            answer=result.answer
            if result.ok
            else f"{name} stopped ({result.stop_reason}): {result.answer}",
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=usage.cost_usd,
            model_calls=usage.model_calls,
            trace_id=result.trace_id,
        )

    delegate.__doc__ = f"{description}\n\nArgs:\n    request: What to ask the {name} agent.\n"
    if timeout is None:
        return make_tool(delegate, name=name, description=description, tags=[SUBAGENT_TAG])
    return make_tool(
        delegate, name=name, description=description, tags=[SUBAGENT_TAG], timeout=timeout
    )
