"""Running an example's agent at a terminal: approvals asked, answer and trace id printed."""

from __future__ import annotations

import sys

from podium.agent import Agent
from podium.identity import Principal
from podium.planner.approvals import Approval
from podium.results import RunResult

BAD_INPUT = 2  # the exit code of an example given input it cannot use


def ask(question: str) -> bool:
    """A yes/no question at the terminal; no answer (end of input) is a no."""
    try:
        return input(question).strip().lower() == "y"
    except EOFError:
        print()
        return False


def run_at_terminal(agent: Agent, request: str, principal: Principal) -> RunResult:
    """Run ``request``; ask y/N for every call that waits for approval; print the answer."""
    result = agent.invoke(request, principal=principal)
    while result.stop_reason == "awaiting_approval":
        decisions: dict[str, bool | Approval] = {}
        for waiting in result.pending_approvals:
            decisions[waiting.call_id] = ask(f"approve {waiting.tool}({waiting.arguments})? [y/N] ")
        result = agent.resume(result.thread_id, decisions)
    print(result.answer)
    print(f"trace: podium trace show {result.trace_id}")
    return result


def bad_input(problem: str, fix: str) -> int:
    """Say on standard error what was wrong and how to fix it; the exit code for it."""
    print(f"error: {problem}", file=sys.stderr)
    print(f"  fix: {fix}", file=sys.stderr)
    return BAD_INPUT
