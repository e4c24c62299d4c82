"""`podium serve` over loopback HTTP: invoke, stream, approvals, events, schedules, tokens."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from podium.agent import Agent
from podium.errors import ConfigError
from podium.guardrails.policy import Policy
from podium.server.app import check_exposure, create_app, read_tokens
from podium.server.triggers import EventRule, Schedule, Triggers
from podium.tools.registry import tool
from tests.servers import free_port, wait_for_port

RELEASED: list[str] = []


@tool
def order_status(order_id: str) -> str:
    """Look up the status of an order by its id."""
    return f"order {order_id} shipped"


@tool(needs_approval=True, risk="high", side_effects=True)
def release(version: str) -> str:
    """Release a version of the app to production."""
    RELEASED.append(version)
    return f"released {version}"


@contextmanager
def running(app: FastAPI) -> Iterator[httpx.Client]:
    """The app on a loopback port, in this process; a client for it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port, None)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=60) as c:
            yield c
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_invoke_and_stream_run_the_agent() -> None:
    with running(create_app(Agent([order_status]))) as client:
        assert client.get("/health").json()["tools"] == ["order_status"]
        answer = client.post("/invoke", json={"request": "status of order C-3?", "thread_id": "t1"})
        assert answer.status_code == 200
        body = answer.json()
        assert body["stop_reason"] == "answered" and "C-3 shipped" in body["answer"]
        assert body["thread_id"] == "t1" and "events" not in body
        audit = client.get("/health").json()["audit"]  # a failing audit log shows here
        assert audit["ok"] and audit["written"] > 0 and audit["dropped"] == 0
        with client.stream("POST", "/stream", json={"request": "status of order D-4?"}) as lines:
            items = [json.loads(line) for line in lines.iter_lines() if line]
    kinds = [item["event"]["kind"] for item in items if "event" in item]
    assert kinds[0] == "run_started" and "tool_call" in kinds and kinds[-1] == "run_finished"
    assert "D-4 shipped" in items[-1]["result"]["answer"]


def test_bad_requests_get_a_clear_error() -> None:
    with running(create_app(Agent([order_status]))) as client:
        empty = client.post("/invoke", json={"request": ""})
        assert empty.status_code == 422
        missing = client.post(
            "/invoke", content=b"not json", headers={"content-type": "application/json"}
        )
        assert missing.status_code == 422
        nothing = client.post("/threads/never-ran/resume")
        assert nothing.status_code == 404
        assert "no thread 'never-ran'" in nothing.json()["error"] and nothing.json()["fix"]
        no_triggers = client.post("/events/x", json={})
        assert no_triggers.status_code == 404
        body = b'{"request": "status of order A-1?"}'
        form = client.post(  # what curl -d sends without -H 'Content-Type: ...'
            "/invoke",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 415
        assert "sent as application/x-www-form-urlencoded" in form.json()["error"]
        assert "Content-Type: application/json" in form.json()["fix"]
        bare = client.post("/invoke", content=body)
        assert bare.status_code == 415 and "without a Content-Type" in bare.json()["error"]


def test_a_call_waiting_for_approval_is_listed_and_resumed_over_http() -> None:
    RELEASED.clear()
    with running(create_app(Agent([release]))) as client:
        waiting = client.post(
            "/invoke", json={"request": "release version 2.1.0", "thread_id": "r"}
        )
        assert waiting.json()["stop_reason"] == "awaiting_approval"
        [pending] = client.get("/threads/r/approvals").json()
        assert pending["tool"] == "release" and RELEASED == []
        busy = client.post("/invoke", json={"request": "status?", "thread_id": "r"})
        assert busy.status_code == 400 and "waits for approval" in busy.json()["error"]
        done = client.post(
            "/threads/r/resume", json={"decisions": {pending["call_id"]: True}}
        ).json()
        assert done["stop_reason"] == "answered" and RELEASED == ["2.1.0"]
        assert client.get("/threads/r/approvals").json() == []


def test_events_and_schedules_start_runs_inside_the_service() -> None:
    agent = Agent([order_status])
    triggers = Triggers(
        agent,
        schedules=[
            Schedule(name="every-second", cron="* * * * * *", request="status of order S-1?")
        ],
        events=[EventRule(event="order.paid", request="status of order {id}?")],
    )
    with running(create_app(agent, triggers)) as client:
        fired = client.post("/events/order.paid", json={"id": "E-5"})
        assert fired.status_code == 200
        assert fired.json()[0]["stop_reason"] == "answered"
        unknown = client.post("/events/order.lost", json={})
        assert unknown.status_code == 400 and "known: order.paid" in unknown.json()["fix"]
        missing = client.post("/events/order.paid", json={"order": 1})
        assert missing.status_code == 400 and "needs field 'id'" in missing.json()["error"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            history = client.get("/triggers").json()["history"]
            if any(f["trigger"] == "every-second" for f in history):
                break
            time.sleep(0.1)
        listing = client.get("/triggers").json()
    scheduled = [f for f in listing["history"] if f["trigger"] == "every-second"]
    assert scheduled and scheduled[0]["stop_reason"] == "answered"
    assert listing["events"] == ["order.paid"]
    for moment in [scheduled[0]["at"], listing["schedules"][0]["next"]]:  # ISO 8601, in UTC
        assert datetime.fromisoformat(moment).utcoffset() == timedelta(0)


def test_tokens_name_the_principal_and_keep_threads_apart(tmp_path: Path) -> None:
    rules = tmp_path / "policy.yaml"
    rules.write_text(
        "roles:\n  ops: {scopes: [deploy]}\n"
        "principals:\n  ann: {roles: [ops]}\n  bob: {}\n"
        "tools:\n  release: {scopes: [deploy], needs_approval: false}\n"
    )
    tokens = tmp_path / "tokens"
    tokens.write_text("# token principal\nann-token-0123456789 ann\nbob-token-0123456789 bob\n")
    agent = Agent([release], policy=Policy.load(rules))
    app = create_app(agent, tokens=read_tokens(tokens))
    ann = {"Authorization": "Bearer ann-token-0123456789"}
    bob = {"Authorization": "Bearer bob-token-0123456789"}
    request = {"request": "release version 3.0.0", "thread_id": "same"}
    with running(app) as client:
        assert client.post("/invoke", json=request).status_code == 401
        wrong = {"Authorization": "Bearer not-a-token-at-all"}
        assert client.post("/invoke", json=request, headers=wrong).status_code == 401
        denied = client.post("/invoke", json=request, headers=bob).json()
        assert denied["tool_calls"][0]["status"] == "denied"
        allowed = client.post("/invoke", json=request, headers=ann).json()
        assert allowed["tool_calls"][0]["status"] == "ok"  # same thread name, another thread


def test_exposure_without_tokens_is_refused_and_bad_token_files_are_named(tmp_path: Path) -> None:
    check_exposure("127.0.0.1", None)
    with pytest.raises(ConfigError, match="without tokens"):
        check_exposure("0.0.0.0", None)
    short = tmp_path / "tokens"
    short.write_text("abc ann\n")
    with pytest.raises(ConfigError, match="line 1: expected 'TOKEN PRINCIPAL'"):
        read_tokens(short)
    unknown = tmp_path / "unknown"
    unknown.write_text("zed-token-0123456789 zed\n")
    with pytest.raises(ConfigError, match="principal 'zed'"):
        create_app(Agent([order_status]), tokens=read_tokens(unknown))


@pytest.mark.slow
def test_the_serve_command_answers_over_http(tmp_path: Path, isolated: Path) -> None:
    port = free_port()
    triggers = tmp_path / "triggers.yaml"
    triggers.write_text("events:\n  - event: ping\n    request: what is 2 + 3\n")
    command = [sys.executable, "-m", "podium.cli", "serve", "--no-memory", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--triggers", str(triggers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(isolated),
    )
    try:
        wait_for_port(port, process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=60) as c:
            answer = c.post("/invoke", json={"request": "what is 6 * 7"}).json()
            fired = c.post("/events/ping", json={}).json()
    finally:
        process.terminate()
        log, _ = process.communicate(timeout=10)
    assert "42" in answer["answer"] and answer["model"] == "router"
    assert fired[0]["stop_reason"] == "answered"
    assert "1 event trigger ·" in log  # not "1 event triggers"
    assert '"POST /invoke HTTP/1.1" 200' in log  # the access log
    assert "event ping fired at " in log and ": thread " in log and "answered" in log
    refused = subprocess.run(
        [*command, "--host", "0.0.0.0"], capture_output=True, text=True, env=_env(isolated)
    )
    assert refused.returncode != 0 and "without tokens" in refused.stderr
    assert "Traceback" not in refused.stderr


def _env(home: Path) -> dict[str, str]:
    import os

    return {**os.environ, "PODIUM_HOME": str(home)}


def test_the_services_tokens_never_reach_a_sink_in_clear(tmp_path: Path) -> None:
    from podium.redaction import redact_secrets

    rules = tmp_path / "policy.yaml"
    rules.write_text("principals:\n  carl: {}\n")
    token = "carl-token-5f1e9a03b7"
    create_app(Agent([release], policy=Policy.load(rules)), tokens={token: "carl"})
    assert redact_secrets(f"a page quoting {token}") == "a page quoting [SECRET]"
