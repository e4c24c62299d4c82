"""AG-UI: ``POST /agui`` runs the agent for an AG-UI client, as a stream of AG-UI events.

The body is AG-UI's ``RunAgentInput``: the last user message is the request, in the
caller's own thread ``threadId``. The answer is Server-Sent Events of the protocol's own
models (``ag_ui.core``): RUN_STARTED; STATE_SNAPSHOT; each tool call as it ends
(TOOL_CALL_START, _ARGS, _END, _RESULT); guard and policy decisions as CUSTOM events
(``podium.guard``, ``podium.policy``); the answer as TEXT_MESSAGE_START, _CONTENT, _END; a
last STATE_SNAPSHOT; then RUN_FINISHED, or RUN_ERROR with the error and its fix.

Human in the loop: a run that waits for approvals finishes with the ``interrupt`` outcome,
one interrupt per waiting call (its id is the call id; its ``responseSchema`` asks for
``{"approved": bool, "reason": str}``). The client continues the run by sending the same
thread with ``resume``: one entry per interrupt, ``resolved`` with that payload, or
``cancelled`` (a rejection). The caller must be allowed to decide (``approve:<tool>``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    Interrupt,
    ResumeEntry,
    RunAgentInput,
    RunErrorEvent,
    RunFinishedEvent,
    RunFinishedInterruptOutcome,
    RunFinishedSuccessOutcome,
    RunStartedEvent,
    StateSnapshotEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)
from ag_ui.encoder import EventEncoder
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from podium.errors import InvalidRequest, PodiumError
from podium.identity import namespaced
from podium.inputs import thread_named
from podium.planner.approvals import Approval
from podium.server import doors
from podium.server.service import DONE, Caller, Service

if TYPE_CHECKING:
    from podium.results import RunResult
    from podium.tracing.events import Event

APPROVAL_SCHEMA = {
    "type": "object",
    "properties": {"approved": {"type": "boolean"}, "reason": {"type": "string"}},
    "required": ["approved"],
}


def agui_routes(app: FastAPI, service: Service) -> None:
    """``POST /agui``: one AG-UI run (a new request, or decisions that resume one)."""

    @app.post("/agui")
    async def agui(body: RunAgentInput, who: Caller) -> StreamingResponse:
        """Run the agent for an AG-UI client; the answer is a stream of AG-UI events."""
        thread = namespaced(who.id, thread_named(body.thread_id, "threadId"))
        # The calls the interrupted run already started: those resumed, those left waiting
        # when a resume decides some of them, those an earlier resume decided (the client
        # was told of them all when the round first waited).
        resumed = {entry.interrupt_id for entry in body.resume or []}
        if body.resume:
            before = await service.agent.athread(thread)
            resumed |= {request.call_id for request in before.waiting} | set(before.decided)
            items = doors.resume(service, thread, _decisions(body.resume), who)
        else:
            items = doors.start(service, thread, _request(body), who)
        run = AguiRun(body.thread_id, body.run_id, resumed)
        return StreamingResponse(_sse(run, items), media_type="text/event-stream")


async def _sse(run: AguiRun, items: Any) -> AsyncIterator[str]:
    for event in run.opening():
        yield _encoded(event)
    while (item := await items.get()) is not DONE:
        for event in run.translate(item):
            yield _encoded(event)


def _encoded(event: BaseEvent) -> str:
    return EventEncoder().encode(event)


class AguiRun:
    """Translates one podium run's events and result into AG-UI events."""

    def __init__(self, thread_id: str, run_id: str, resumed: set[str] | None = None) -> None:
        self.thread_id, self.run_id = thread_id, run_id
        self.resumed = resumed or set()  # calls the interrupted run already started
        self.streamed = ""  # the answer's text sent as it was produced (token events)
        self.message_id = f"msg_{uuid.uuid4().hex[:12]}"

    def opening(self) -> list[BaseEvent]:
        """RUN_STARTED and the first state."""
        return [
            RunStartedEvent(thread_id=self.thread_id, run_id=self.run_id, timestamp=_now()),
            StateSnapshotEvent(snapshot={"status": "running"}, timestamp=_now()),
        ]

    def translate(self, item: Event | RunResult | PodiumError) -> list[BaseEvent]:
        """The AG-UI events for one item of the run's stream."""
        from podium.results import RunResult

        if isinstance(item, PodiumError):
            return [RunErrorEvent(message=str(item), code=type(item).__name__, timestamp=_now())]
        if isinstance(item, RunResult):
            return self.finished(item)
        return self.event(item)

    def event(self, event: Event) -> list[BaseEvent]:
        """A podium event as AG-UI events (none for those a client has no use for)."""
        from podium.tracing.events import CallShown, GuardDecided, PolicyDecided

        if isinstance(event, CallShown):
            return self.tool_call(event.call_id, event.name, event.arguments, event.output)
        if isinstance(event, GuardDecided | PolicyDecided):
            name = "podium.guard" if isinstance(event, GuardDecided) else "podium.policy"
            return [CustomEvent(name=name, value=event.model_dump(mode="json"), timestamp=_now())]
        text = getattr(event, "text", None)
        if getattr(event, "kind", "") == "token" and isinstance(text, str):
            return self.token(text)
        return []

    def token(self, text: str) -> list[BaseEvent]:
        """A piece of the answer as it is produced."""
        events: list[BaseEvent] = []
        if not self.streamed:
            events.append(self._start_message())
        self.streamed += text
        if text:
            events.append(
                TextMessageContentEvent(message_id=self.message_id, delta=text, timestamp=_now())
            )
        else:
            events = [e for e in events if isinstance(e, TextMessageStartEvent)]
        return events

    def _start_message(self) -> BaseEvent:

        return TextMessageStartEvent(message_id=self.message_id, role="assistant", timestamp=_now())

    def tool_call(
        self, call_id: str, name: str, arguments: dict[str, Any], output: str | None
    ) -> list[BaseEvent]:
        """A call: its start, its arguments, its end, and its result when it ran."""
        events: list[BaseEvent] = []
        if call_id not in self.resumed:
            events += [
                ToolCallStartEvent(tool_call_id=call_id, tool_call_name=name, timestamp=_now()),
                ToolCallArgsEvent(
                    tool_call_id=call_id, delta=json.dumps(arguments), timestamp=_now()
                ),
                ToolCallEndEvent(tool_call_id=call_id, timestamp=_now()),
            ]
        if output is not None:
            events.append(
                ToolCallResultEvent(
                    message_id=f"tool_{call_id}",
                    tool_call_id=call_id,
                    content=output,
                    role="tool",
                    timestamp=_now(),
                )
            )
        return events

    def finished(self, result: RunResult) -> list[BaseEvent]:
        """The answer, the calls still waiting (as interrupts), the state, RUN_FINISHED."""
        events: list[BaseEvent] = []
        answer = result.answer
        rest = answer[len(self.streamed) :] if answer.startswith(self.streamed) else ""
        if not self.streamed and result.answer:
            events.append(self._start_message())
        if rest:
            events.append(
                TextMessageContentEvent(message_id=self.message_id, delta=rest, timestamp=_now())
            )
        if self.streamed or result.answer:
            events.append(TextMessageEndEvent(message_id=self.message_id, timestamp=_now()))
        for waiting in result.pending_approvals:
            events += self.tool_call(waiting.call_id, waiting.tool, waiting.arguments, None)
        events.append(StateSnapshotEvent(snapshot=_state(result), timestamp=_now()))
        outcome: RunFinishedInterruptOutcome | RunFinishedSuccessOutcome
        if result.pending_approvals:
            outcome = RunFinishedInterruptOutcome(
                interrupts=[
                    Interrupt(
                        id=waiting.call_id,
                        reason="tool_approval",
                        message=f"approve {waiting.tool}? {waiting.reason}",
                        tool_call_id=waiting.call_id,
                        response_schema=APPROVAL_SCHEMA,
                    )
                    for waiting in result.pending_approvals
                ]
            )
        else:
            outcome = RunFinishedSuccessOutcome()
        events.append(
            RunFinishedEvent(
                thread_id=self.thread_id,
                run_id=self.run_id,
                result={"answer": result.answer, "stop_reason": result.stop_reason},
                outcome=outcome,
                timestamp=_now(),
            )
        )
        return events


def _state(result: RunResult) -> dict[str, Any]:
    return {
        "status": "waiting" if result.pending_approvals else "finished",
        "stop_reason": result.stop_reason,
        "trace_id": result.trace_id,
        "usage": result.usage.model_dump(mode="json"),
        "waiting": [w.model_dump(mode="json") for w in result.pending_approvals],
    }


def _now() -> int:
    return int(time.time() * 1000)


def _request(body: RunAgentInput) -> str:
    """The text of the last user message."""
    for message in reversed(body.messages):
        if getattr(message, "role", None) != "user":
            continue
        content = getattr(message, "content", "")
        if isinstance(content, str):
            return content
        return "\n".join(str(part.text) for part in content if hasattr(part, "text"))
    raise InvalidRequest("the run has no user message", "send a user message, or resume entries")


def _decisions(entries: list[ResumeEntry]) -> dict[str, bool | Approval]:
    """Resume entries as decisions: a resolved entry's payload, a cancelled one a rejection."""
    decisions: dict[str, bool | Approval] = {}
    for entry in entries:
        payload = entry.payload if isinstance(entry.payload, dict) else {}
        approved = entry.status == "resolved" and payload.get("approved") is True
        reason = payload.get("reason") if isinstance(payload.get("reason"), str) else ""
        if entry.status == "cancelled" and not reason:
            reason = "cancelled"
        decisions[entry.interrupt_id] = Approval(approved=approved, reason=reason or "")
    return decisions
