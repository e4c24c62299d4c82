"""Running an example's agent at a terminal: approvals asked, answer and trace id printed."""

from __future__ import annotations

from podium.agent import Agent
from podium.identity import Principal
from podium.planner.approvals import Approval


def run_at_terminal(agent: Agent, request: str, principal: Principal) -> None:
    """Run ``request``; ask y/N for every call that waits for approval; print the answer."""
    result = agent.invoke(request, principal=principal)
    while result.stop_reason == "awaiting_approval":
        decisions: dict[str, bool | Approval] = {}
        for waiting in result.pending_approvals:
            asked = f"approve {waiting.tool}({waiting.arguments})? [y/N] "
            decisions[waiting.call_id] = input(asked).strip().lower() == "y"
        result = agent.resume(result.thread_id, decisions)
    print(result.answer)
    print(f"trace: podium trace show {result.trace_id}")
