"""AG-UI over loopback HTTP: every event parses with the protocol's own models, and a
client replaying a recorded session (agui_session.json) drives a run through approvals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    Event,
    EventType,
    RunAgentInput,
    RunFinishedEvent,
    TextMessageContentEvent,
    ToolCallResultEvent,
)
from pydantic import TypeAdapter

from podium.server.app import create_app
from tests.server.test_app import running
from tests.server.web_agent import HOSTILE, RELEASED, TOKENS, web_agent

SESSION = Path(__file__).parent / "agui_session.json"
EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def run_agui(client: httpx.Client, body: dict[str, Any], **headers: str) -> list[BaseEvent]:
    """POST /agui; every Server-Sent Event parsed as an AG-UI event (or the test fails)."""
    RunAgentInput.model_validate(body)  # what the client sends is the protocol's input
    events: list[BaseEvent] = []
    with client.stream("POST", "/agui", json=body, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(EVENT.validate_json(line.removeprefix("data: ")))
            else:
                assert line == "", line
    return events


def check_sequence(events: list[BaseEvent]) -> None:
    """The protocol's order: one run, messages and calls opened before use and closed."""
    assert events[0].type == EventType.RUN_STARTED
    assert events[-1].type in (EventType.RUN_FINISHED, EventType.RUN_ERROR)
    open_messages: set[str] = set()
    open_calls: set[str] = set()
    for event in events[1:-1]:
        assert event.type not in (EventType.RUN_STARTED, EventType.RUN_FINISHED)
        data = event.model_dump()
        if event.type == EventType.TEXT_MESSAGE_START:
            open_messages.add(data["message_id"])
        elif event.type == EventType.TEXT_MESSAGE_CONTENT:
            assert data["message_id"] in open_messages and data["delta"]
        elif event.type == EventType.TEXT_MESSAGE_END:
            open_messages.remove(data["message_id"])
        elif event.type == EventType.TOOL_CALL_START:
            open_calls.add(data["tool_call_id"])
        elif event.type in (EventType.TOOL_CALL_ARGS, EventType.TOOL_CALL_END):
            assert data["tool_call_id"] in open_calls
            if event.type == EventType.TOOL_CALL_END:
                open_calls.remove(data["tool_call_id"])
    assert not open_messages and not open_calls


def replay(client: httpx.Client, session: dict[str, Any]) -> list[list[BaseEvent]]:
    """Send each recorded input, filling in the interrupt ids the last run finished with."""
    runs: list[list[BaseEvent]] = []
    interrupts: list[str] = []
    for recorded in session["runs"]:
        text = json.dumps(recorded["input"])
        for number, interrupt in enumerate(interrupts):
            text = text.replace(f"$interrupt:{number}", interrupt)
        events = run_agui(client, json.loads(text))
        check_sequence(events)
        kinds = [e.type.value for e in events if e.type != EventType.CUSTOM]
        assert kinds == recorded["expect"], kinds
        finished = events[-1]
        assert isinstance(finished, RunFinishedEvent) and finished.outcome is not None
        assert finished.outcome.type == recorded["outcome"]
        answer = "".join(e.delta for e in events if isinstance(e, TextMessageContentEvent))
        assert recorded["answer_holds"] in answer
        outcome = finished.outcome.model_dump()
        interrupts = [i["id"] for i in outcome.get("interrupts", [])]
        runs.append(events)
    return runs


def test_a_recorded_agui_session_replays_through_two_approvals(isolated: Path) -> None:
    RELEASED.clear()
    session = json.loads(SESSION.read_text())
    with running(create_app(web_agent(isolated, policy=False))) as client:
        first, waiting, resumed = replay(client, session)
    decisions = [e for e in first if isinstance(e, CustomEvent)]
    assert {e.name for e in decisions} <= {"podium.guard", "podium.policy"} and decisions
    finished = waiting[-1]
    assert isinstance(finished, RunFinishedEvent) and finished.outcome is not None
    interrupt = finished.outcome.model_dump()["interrupts"][0]
    assert interrupt["tool_call_id"] == interrupt["id"] and interrupt["reason"] == "tool_approval"
    assert interrupt["response_schema"]["properties"]["approved"]["type"] == "boolean"
    results = [e.content for e in resumed if isinstance(e, ToolCallResultEvent)]
    assert results[0] == "released 1.0" and "not approved by local: cancelled" in results[1]
    assert RELEASED == ["1.0"]
    state = [e for e in resumed if e.type == EventType.STATE_SNAPSHOT][-1].model_dump()
    assert state["snapshot"]["stop_reason"] == "answered" and state["snapshot"]["trace_id"]


def test_agui_needs_the_token_and_keeps_threads_and_decisions_to_their_principal(
    isolated: Path,
) -> None:
    body = {
        "threadId": "x",
        "runId": "r",
        "messages": [{"id": "u", "role": "user", "content": "release it"}],
    }
    with running(create_app(web_agent(isolated), tokens=TOKENS)) as client:
        assert client.post("/agui", json=body).status_code == 401
        waiting = run_agui(client, body, Authorization="Bearer ann-token-0123456789")
        finished = waiting[-1]
        assert isinstance(finished, RunFinishedEvent) and finished.outcome is not None
        ids = [i["id"] for i in finished.outcome.model_dump()["interrupts"]]
        resume = {
            "threadId": "x",
            "runId": "r2",
            "messages": [],
            "resume": [
                {"interruptId": i, "status": "resolved", "payload": {"approved": True}} for i in ids
            ],
        }
        refused = run_agui(client, resume, Authorization="Bearer ann-token-0123456789")
        elsewhere = run_agui(client, resume, Authorization="Bearer lead-token-0123456789")
    error = refused[-1].model_dump()
    assert error["type"] == EventType.RUN_ERROR and error["code"] == "PermissionDenied"
    assert "approve:release" in error["message"]
    # lead's thread 'x' is lead's own, not ann's: nothing there to resume.
    assert elsewhere[-1].type == EventType.RUN_ERROR


def test_hostile_and_bad_input_stay_inside_the_protocol(isolated: Path) -> None:
    with running(create_app(web_agent(isolated, policy=False))) as client:
        shown = run_agui(
            client,
            {
                "threadId": "h",
                "runId": "r",
                "messages": [
                    {
                        "id": "u",
                        "role": "user",
                        "content": [{"type": "text", "text": "show the page"}],
                    }
                ],
            },
        )
        no_user = client.post("/agui", json={"threadId": "h2", "runId": "r", "messages": []})
        bad_thread = client.post("/agui", json={"threadId": "a b", "runId": "r", "messages": []})
        not_agui = client.post("/agui", json={"thread": "x"})
    result = next(e for e in shown if isinstance(e, ToolCallResultEvent))
    assert result.content == f"page http://example.test/: {HOSTILE}"  # data, as the tool said
    assert no_user.status_code == 400 and "no user message" in no_user.json()["error"]
    assert bad_thread.status_code == 400 and set(bad_thread.json()) == {"error", "fix"}
    assert not_agui.status_code == 422


def test_a_resume_deciding_one_of_two_calls_waits_on_the_other_without_starting_it_again(
    isolated: Path,
) -> None:
    RELEASED.clear()
    start = {
        "threadId": "two",
        "runId": "r1",
        "messages": [{"id": "u", "role": "user", "content": "release it"}],
        "tools": [],
        "context": [],
        "state": {},
    }
    with running(create_app(web_agent(isolated, policy=False))) as client:
        waiting = run_agui(client, start)
        first, second = [i["id"] for i in waiting[-1].model_dump()["outcome"]["interrupts"]]
        resolved = {"interruptId": first, "status": "resolved", "payload": {"approved": True}}
        one = run_agui(client, {**start, "runId": "r2", "messages": [], "resume": [resolved]})
        ran_before = list(RELEASED)
        cancelled = {"interruptId": second, "status": "cancelled"}
        other = run_agui(client, {**start, "runId": "r3", "messages": [], "resume": [cancelled]})
    for events in (one, other):
        check_sequence(events)
        assert not [e for e in events if e.type == EventType.TOOL_CALL_START]  # started before
    outcome = one[-1].model_dump()["outcome"]
    assert outcome["type"] == "interrupt" and [i["id"] for i in outcome["interrupts"]] == [second]
    assert ran_before == []  # nothing ran while a call of the round waited
    assert other[-1].model_dump()["outcome"]["type"] == "success"
    results = [e.content for e in other if isinstance(e, ToolCallResultEvent)]
    assert results[0] == "released 1.0" and "not approved" in results[1], results
    assert RELEASED == ["1.0"]
