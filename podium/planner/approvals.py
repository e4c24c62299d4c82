"""Human approval of tool calls: the requests a run waits on, and the decisions that resume it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, StrictBool

from podium.errors import InvalidRequest, PermissionDenied
from podium.planner.state import PendingCall
from podium.tracing.events import ApprovalDecided, ApprovalRequested

if TYPE_CHECKING:
    from collections.abc import Collection

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

    approved: StrictBool  # true or false: "yes", 1 or "no" are no decision
    reason: str = ""
    by: str = ""


def normalize(
    requests: list[ApprovalRequest], decisions: dict[str, bool | Approval]
) -> dict[str, Approval]:
    """Check that ``decisions`` decide some of the pending calls, and no other call.

    The run waits on the calls left undecided (each may be another decider's), and goes on
    once every one is decided.
    """
    pending = {r.call_id for r in requests}
    unknown = sorted(set(decisions) - pending)
    if unknown or not decisions:
        problem = (
            f"no pending approval for call id(s) {', '.join(unknown)}"
            if unknown
            else "no decision was given"
        )
        raise InvalidRequest(
            problem, f"decide one or more of the pending calls: {', '.join(sorted(pending))}"
        )
    return {
        call_id: d if isinstance(d, Approval) else Approval(approved=bool(d))
        for call_id, d in decisions.items()
    }


def signed(
    decisions: dict[str, bool | Approval], decider: Principal, snapshot: Any, policy: Policy
) -> dict[str, bool | Approval]:
    """The decisions, each checked to be ``decider``'s to make, and signed with their id.

    A PermissionDenied names the first call of a tool the decider may not approve.
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
    ctx: RunContext,
    calls: list[PendingCall],
    waiting: list[ApprovalRequest],
    ran: Collection[str] = (),
) -> list[PendingCall]:
    """Wait for the decisions on ``waiting`` (the run pauses here), then apply them.

    Each resume may decide some of the calls (several deciders, each deciding their own):
    the run pauses again on the rest, one interrupt after another, until all are decided.
    A resume runs this node again from its start, and LangGraph hands each interrupt the
    decisions given to it before: only the newest are traced as decided in this run, and a
    request is traced in the run that waits for it. ``ctx.resumes`` says how many decisions
    the resumes brought (all are read, whatever the policy of now asks for). A call in
    ``ran`` ran before a crash (its result is replayed): a decision given now does not
    change it, nor is it traced as decided.
    """
    import itertools

    from langgraph.errors import GraphInterrupt

    decisions: dict[str, Approval] = {}
    newest: dict[str, Approval] = {}
    # Every decision the resumes brought is read, even when the policy of now asks for no
    # decision on that call any more: a rejection given is applied, not lost.
    for index in itertools.count():
        remaining = [r for r in waiting if r.call_id not in decisions]
        if not remaining and index >= ctx.resumes:
            break
        asked = {
            "approvals": [r.model_dump() for r in remaining],
            "decided": [*decisions],
            "index": index,  # how many decisions the round has had before this wait
        }
        try:
            answers = interrupt(asked)
        except GraphInterrupt:  # the run waits (again, on the rest): traced as this run's
            _trace_decided(ctx, calls, newest)
            for request in remaining:
                ctx.tracer.emit(
                    ApprovalRequested(
                        trace_id=ctx.tracer.trace_id,
                        call_id=request.call_id,
                        tool=request.tool,
                        reason=request.reason,
                    )
                )
            raise
        newest = {k: Approval.model_validate(v) for k, v in answers.items()}
        decisions.update(newest)
    newest = {k: v for k, v in newest.items() if k not in ran}
    _trace_decided(ctx, calls, newest)
    decided = []
    for call in calls:
        decision = None if call["id"] in ran else decisions.get(call["id"])
        if decision is not None and not decision.approved:
            decision = _screened_reason(ctx, decision)
            call = PendingCall(**{**call, "denial": rejection(decision)})
        decided.append(call)
    return decided


def _trace_decided(
    ctx: RunContext, calls: list[PendingCall], decisions: dict[str, Approval]
) -> None:
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
