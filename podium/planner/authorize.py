"""The authorize node: the policy decides each planned call, and its arguments are screened.

Denied calls never run; calls a policy or a guard sends to a person wait together for
their decisions (one interrupt per round); calls beyond the tool-call budget are refused.
"""

from __future__ import annotations

import asyncio
import json
from typing import NamedTuple

from langgraph.runtime import Runtime

from podium.guardrails.policy import PolicyDecision
from podium.guardrails.provenance import Seen, concerns
from podium.planner.approvals import ApprovalRequest, wait_for_decisions
from podium.planner.context import RunContext
from podium.planner.state import PendingCall, RunState, Update, planned_calls, steps_taken
from podium.tools.registry import Tool, idempotency_key
from podium.tools.sources import Source
from podium.tracing.events import PolicyDecided


class Authorized(NamedTuple):
    """The round's calls as decided, and whether a person was asked to decide some."""

    update: Update
    asked: bool


async def authorize(state: RunState, runtime: Runtime[RunContext]) -> Authorized:
    """Let the policy decide every call; denied calls never run, some wait for approval.

    Calls that need approval in one round are put to people together; the run resumes here
    with their decisions, and waits again on the calls not yet decided (each decider may
    decide their own). Calls beyond the tool-call budget are refused.
    """
    ctx = runtime.context
    decided, waiting = [], []
    replayed: set[str] = set()  # calls that ran before a crash: no decision changes them
    room = None
    if ctx.limits.max_tool_calls is not None:
        room = ctx.limits.max_tool_calls - len(state.get("outcomes", []))
    for call in planned_calls(state):
        tool = ctx.registry.get(call["name"])
        # A call that ran before a crash was decided when it ran: the executor replays it.
        ran = tool is not None and await _ran_before(ctx, state, tool, call)
        if ran:
            replayed.add(call["id"])
        taken = False  # whether the call takes room in the tool-call budget
        if tool is not None and call["parse_error"] is None and not ran:
            decision = _decide(ctx, tool, call["id"])
            if decision.route is not None:  # the tenant's own tool runs in this one's place
                tool = ctx.registry.get(decision.route) or tool
                call = PendingCall(**{**call, "name": tool.name})
                decision = _decide(ctx, tool, call["id"])
                if decision.route is not None:
                    decision = PolicyDecision(
                        tool.name, call["id"], "deny", "permission denied: routes form a chain"
                    )
            if decision.outcome == "deny":
                call = PendingCall(**{**call, "denial": decision.reason})
            elif room is not None and room <= 0:
                call = PendingCall(
                    **{
                        **call,
                        "denial": "not run: the tool-call budget "
                        f"({ctx.limits.max_tool_calls}) is used up",
                    }
                )
            else:
                call, escalation = await _screen_arguments(ctx, call)
                outcome, reason = decision.outcome, decision.reason
                if escalation is not None and call["denial"] is None:
                    outcome, reason = "approve", escalation
                concern = _provenance(ctx, state, tool, call) if call["denial"] is None else None
                if concern is not None and ctx.policy.provenance_action(tool) == "block":
                    call = PendingCall(
                        **{**call, "denial": f"blocked: {concern}", "refused_as": "blocked"}
                    )
                elif concern is not None:
                    outcome, reason = "approve", concern if outcome != "approve" else reason
                if outcome == "approve" and call["denial"] is None:
                    waiting.append(
                        ApprovalRequest(
                            call_id=call["id"],
                            tool=tool.name,
                            arguments=call["arguments"],
                            risk=tool.risk,
                            reason=reason,
                        )
                    )
            taken = call["denial"] is None
        if room is not None and (taken or ran):
            room -= 1
        decided.append(call)
    if waiting or ctx.resumes:  # (decisions given are read even if none is asked for now)
        decided = wait_for_decisions(ctx, decided, waiting, replayed)
        ctx.resumes = 0  # read: a later round of this run starts with none
    return Authorized({"pending": decided}, asked=bool(waiting))


def seen_texts(ctx: RunContext, state: RunState) -> list[Seen]:
    """What the planner was given this run, each text with its source."""
    seen = [Seen("user", "the request", state.get("request") or "")]
    # The user's own identity is the user's to give: mail to oneself is steered by nobody.
    seen.append(Seen("user", "the principal's own id", ctx.principal.id))
    seen += [
        Seen("user", "an earlier request", str(m.content))
        for m in state.get("messages", [])
        if m.type == "human"
    ]
    seen += [Seen("memory", "a recalled memory", m["text"]) for m in state.get("memories", [])]
    for outcome in state.get("outcomes", []):
        name, where = outcome["name"], f"the output of {outcome['name']!r} ({outcome['call_id']})"
        tool = ctx.registry.get(name)
        if ctx.is_subagent(name):
            source: Source = "subagent"
        elif tool is not None and ctx.policy.trusts_output(tool):
            source = "trusted_tool"
        else:
            source = "untrusted_tool"
        seen.append(Seen(source, where, outcome["output"]))
    return seen


def _provenance(ctx: RunContext, state: RunState, tool: Tool, call: PendingCall) -> str | None:
    """Why the call must be approved or is blocked: an argument from no source it accepts.

    Traced with the outcome the policy gives such a call (``approve`` or ``deny``).
    """
    accepted = ctx.policy.argument_sources(tool)
    if not accepted:
        return None
    found = concerns(call["arguments"], accepted, seen_texts(ctx, state))  # type: ignore[arg-type]
    if not found:
        return None
    reason = "; ".join(concern.describe(tool.name) for concern in found)
    ctx.tracer.emit(
        PolicyDecided(
            trace_id=ctx.tracer.trace_id,
            tool=tool.name,
            call_id=call["id"],
            outcome="deny" if ctx.policy.provenance_action(tool) == "block" else "approve",
            reason=reason,
        )
    )
    return reason


async def _ran_before(ctx: RunContext, state: RunState, tool: Tool, call: PendingCall) -> bool:
    """Whether this very call ran before the run was cut short (its result is in the ledger).

    Such a call was authorized when it ran; deciding it again (a policy changed since, a
    person asked again) could record a side effect that happened as refused, and then never
    undo it. It is traced as replayed, not decided.
    """
    if not tool.side_effects or ctx.ledger is None or call["parse_error"] is not None:
        return False
    key = idempotency_key(
        ctx.thread_id, state["run_id"], steps_taken(state), call["id"], tool.name, call["arguments"]
    )
    if await asyncio.to_thread(ctx.ledger.get, key) is None:
        return False
    ctx.tracer.emit(
        PolicyDecided(
            trace_id=ctx.tracer.trace_id,
            tool=tool.name,
            call_id=call["id"],
            outcome="allow",
            reason="it ran before the run was cut short: replayed from the ledger, not decided "
            "again",
        )
    )
    return True


def _decide(ctx: RunContext, tool: Tool, call_id: str) -> PolicyDecision:
    """The policy's decision on one call, traced."""
    decision = ctx.policy.authorize(ctx.principal, tool, call_id)
    ctx.tracer.emit(
        PolicyDecided(
            trace_id=ctx.tracer.trace_id,
            tool=decision.tool,
            call_id=call_id,
            outcome=decision.outcome,
            reason=decision.reason,
        )
    )
    return decision


async def _screen_arguments(ctx: RunContext, call: PendingCall) -> tuple[PendingCall, str | None]:
    """The call after the argument checks (refused, or its arguments fixed).

    Also the reason a person must approve the call, when a check escalates.
    """
    arguments = call["arguments"]
    tool = ctx.registry.get(call["name"])
    # The schema tells argument checks what each parameter is (a path, an e-mail address).
    schema = tool.parameters_schema() if tool is not None else {}
    verdict = await ctx.ascreen(
        "arguments",
        call["name"],
        json.dumps(arguments, default=str),
        {"arguments": arguments, "schema": schema},
    )
    if verdict["action"] == "allow" and ctx.is_subagent(call["name"]):
        verdict = await ctx.ascreen("subagent", call["name"], str(arguments.get("request", "")))
        if verdict["action"] == "fix":  # the request goes to the sub-agent as fixed
            verdict["text"] = json.dumps({**arguments, "request": verdict["text"]})
    action, reasons = verdict["action"], "; ".join(verdict["reasons"])
    if action == "escalate":
        return call, f"a guard asks for a person's approval: {reasons}"
    if action == "fix":
        try:
            fixed = json.loads(verdict["text"])
        except ValueError:
            fixed = None
        if isinstance(fixed, dict):
            return PendingCall(**{**call, "arguments": fixed}), None
        action = "block"
    if action == "reask" and ctx.screens is not None:
        ctx.reasks[call["name"]] += 1
        if ctx.reasks[call["name"]] <= ctx.screens.max_reasks:
            message = (
                f"error: a guard rejected the arguments of '{call['name']}' ({reasons}). "
                "Correct them and call again."
            )
            return PendingCall(
                **{**call, "denial": message, "refused_as": "invalid_arguments"}
            ), None
        reasons += f" (refused {ctx.screens.max_reasks} times already)"
        action = "block"
    if action == "block":
        message = f"blocked by a guard before the call: {reasons}"
        return PendingCall(**{**call, "denial": message, "refused_as": "blocked"}), None
    return call, None
