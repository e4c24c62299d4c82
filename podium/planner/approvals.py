"""Human approval of tool calls: the requests a run waits on, and the decisions that resume it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict

from podium.errors import InvalidRequest, PermissionDenied
from podium.planner.state import PendingCall
from podium.tracing.events import ApprovalDecided, ApprovalRequested

if TYPE_CHECKING:
    from podium.guardrails.policy import Policy
    from podium.identity import Principal
    from podium.planner.context import RunContext


class ApprovalRequest(BaseModel):
    """A call waiting for a person's decision."""

    call_id: str
    tool: str
    arguments: dict[str, Any]
    risk: str
    reason: str


class Approval(BaseModel):
    """A person's decision on one call."""

    model_config = ConfigDict(frozen=True)

    approved: bool
    reason: str = ""
    by: str = ""


def normalize(
    requests: list[ApprovalRequest], decisions: dict[str, bool | Approval]
) -> dict[str, Approval]:
    """Check that ``decisions`` decide exactly the pending calls; all are decided together."""
    pending = {r.call_id for r in requests}
    unknown = sorted(set(decisions) - pending)
    missing = sorted(pending - set(decisions))
    if unknown or missing:
        problems = []
        if unknown:
            problems.append(f"no pending approval for call id(s) {', '.join(unknown)}")
        if missing:
            problems.append(f"no decision for call id(s) {', '.join(missing)}")
        raise InvalidRequest(
            "; ".join(problems),
            f"decide each pending call exactly once: {', '.join(sorted(pending))}",
        )
    return {
        call_id: d if isinstance(d, Approval) else Approval(approved=bool(d))
        for call_id, d in decisions.items()
    }


def signed(
    decisions: dict[str, bool | Approval], decider: Principal, snapshot: Any, policy: Policy
) -> dict[str, bool | Approval]:
    """The decisions, each checked to be ``decider``'s to make, and signed with their id.

    A PermissionDenied names the first call of a tool the decider may not approve; an
    InvalidRequest says when the run also waits on calls the decider may not decide (all are
    decided together: partial decisions by several deciders are not kept).
    """
    tools = {r["call_id"]: r["tool"] for i in snapshot.interrupts for r in i.value["approvals"]}
    checked: dict[str, bool | Approval] = {}
    for call_id, decision in decisions.items():
        tool = tools.get(call_id)
        if tool is not None and not policy.may_approve(decider, tool):
            raise PermissionDenied(
                f"principal {decider.id!r} may not decide calls of {tool!r}",
                f"grant the scope approve:{tool} (or approve:*) in the policy",
            )
        made = decision if isinstance(decision, Approval) else Approval(approved=decision)
        checked[call_id] = made.model_copy(update={"by": decider.id})
    others = [
        c
        for c, tool in tools.items()
        if c not in decisions and not policy.may_approve(decider, tool)
    ]
    if others:  # (they cannot see those calls: "no decision for call id ..." would puzzle them)
        raise InvalidRequest(
            f"the run also waits on {len(others)} call(s) that {decider.id!r} may not decide, "
            "and its waiting calls are decided together",
            "have one principal who may approve every waiting call decide them "
            "(approve:<tool> for each tool, or approve:*)",
        )
    return checked


def _screened_reason(ctx: RunContext, decision: Approval) -> Approval:
    """The decision with its reason screened as input: it reaches the owner's planner.

    A decider may be another principal; what they write is checked as a request is, and a
    reason the screen blocks is withheld (the decision itself stands).
    """
    if not decision.reason:
        return decision
    verdict = ctx.screen("input", "approval reason", decision.reason)
    if verdict["action"] == "block":
        withheld = f"(the reason given was withheld: {'; '.join(verdict['reasons'])})"
        return decision.model_copy(update={"reason": withheld})
    return decision.model_copy(update={"reason": verdict["text"]})


def rejection(decision: Approval) -> str:
    """The tool message a rejected call becomes."""
    who = f" by {decision.by}" if decision.by else ""
    why = f": {decision.reason}" if decision.reason else ""
    return f"not approved{who}{why}. The call was not made; do not retry it without a change."


def wait_for_decisions(
    ctx: RunContext, calls: list[PendingCall], waiting: list[ApprovalRequest]
) -> list[PendingCall]:
    """Wait for the decisions on ``waiting`` (the run pauses here), then apply them."""
    for request in waiting:
        ctx.tracer.emit(
            ApprovalRequested(
                trace_id=ctx.tracer.trace_id,
                call_id=request.call_id,
                tool=request.tool,
                reason=request.reason,
            )
        )
    answers = interrupt({"approvals": [r.model_dump() for r in waiting]})
    decisions = {k: Approval.model_validate(v) for k, v in answers.items()}
    decided = []
    for call in calls:
        decision = decisions.get(call["id"])
        if decision is not None:
            ctx.tracer.emit(
                ApprovalDecided(
                    trace_id=ctx.tracer.trace_id,
                    call_id=call["id"],
                    tool=call["name"],
                    approved=decision.approved,
                    by=decision.by,
                    reason=decision.reason,
                )
            )
            if not decision.approved:
                decision = _screened_reason(ctx, decision)
                call = PendingCall(**{**call, "denial": rejection(decision)})
        decided.append(call)
    return decided
