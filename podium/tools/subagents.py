"""Delegation as a tool: another agent asked on a thread of its own, its usage rolled up.

The tool knows nothing of what answers it: ``Agent.as_tool`` passes a function that runs the
agent and returns a ``DelegatedReply``, so tools never depend on the agent that uses them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable

from podium.errors import InvalidRequest
from podium.identity import Principal
from podium.tools.outcomes import DelegatedReply
from podium.tools.registry import Tool, ToolContext, make_tool

MAX_DEPTH = 4
SUBAGENT_TAG = "subagent"  # its messages also pass the "subagent" screen
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("podium_delegation_depth", default=0)

# Runs a request on (thread id, principal) and returns the reply: what delegation calls.
Ask = Callable[[str, str, Principal], Awaitable[DelegatedReply]]


def agent_tool(ask: Ask, name: str, description: str, timeout: float | None = None) -> Tool:
    """A tool that asks another agent through ``ask``, in a thread of its own under the caller's."""

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
            return await ask(request, f"{context.thread_id}/{name}", context.principal)
        finally:
            _depth.reset(token)

    delegate.__doc__ = f"{description}\n\nArgs:\n    request: What to ask the {name} agent.\n"
    if timeout is None:
        return make_tool(delegate, name=name, description=description, tags=[SUBAGENT_TAG])
    return make_tool(
        delegate, name=name, description=description, tags=[SUBAGENT_TAG], timeout=timeout
    )
