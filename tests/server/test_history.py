"""The caller's threads, a thread's runs, a run's trace, and decisions that came too late."""

from __future__ import annotations

from pathlib import Path

from podium.server.app import create_app
from tests.server.test_app import running
from tests.server.web_agent import TOKENS, web_agent

ANN = {"Authorization": "Bearer ann-token-0123456789"}
LEAD = {"Authorization": "Bearer lead-token-0123456789"}
EVE = {"Authorization": "Bearer eve-token-0123456789"}


def test_threads_are_the_callers_own_newest_first(isolated: Path) -> None:
    with running(create_app(web_agent(isolated), tokens=TOKENS)) as client:
        for thread in ("first", "second"):
            body = {"request": "status of order A-1", "thread_id": thread}
            assert client.post("/invoke", json=body, headers=ANN).status_code == 200
        client.post("/invoke", json={"request": "hello", "thread_id": "x"}, headers=EVE)
        mine = client.get("/threads", headers=ANN).json()
        theirs = client.get("/threads", headers=EVE).json()
        assert client.get("/threads").status_code == 401
    assert [t["thread_id"] for t in mine] == ["second", "first"]
    assert mine[0]["state"] == "done" and mine[0]["request"] == "status of order A-1"
    assert [t["thread_id"] for t in theirs] == ["x"]


def test_a_threads_runs_and_their_trace_tree_are_shown_to_its_owner_only(isolated: Path) -> None:
    with running(create_app(web_agent(isolated), tokens=TOKENS)) as client:
        body = {"request": "status of order A-1", "thread_id": "t"}
        answer = client.post("/invoke", json=body, headers=ANN).json()
        client.post("/invoke", json={**body, "request": "status of order B-2"}, headers=ANN)
        runs = client.get("/threads/t/runs", headers=ANN).json()
        tree = client.get(f"/traces/{answer['trace_id']}", headers=ANN)
        stolen = client.get(f"/traces/{answer['trace_id']}", headers=EVE)
        nobody = client.get("/threads/t/runs", headers=EVE)
        odd = client.get("/traces/not-hex", headers=ANN)
    assert [r["request"] for r in runs] == ["status of order A-1", "status of order B-2"]
    assert runs[0]["trace_id"] == answer["trace_id"] and runs[0]["stop_reason"] == "answered"
    assert "A-1 shipped" in runs[0]["answer"]
    assert tree.status_code == 200
    trace = tree.json()
    assert trace["thread_id"] == "ann:t" and trace["finished"]["stop_reason"] == "answered"
    nodes = [n["node"] for n in trace["nodes"]]
    assert nodes[:3] == ["begin", "plan", "act"]
    plan = next(n for n in trace["nodes"] if n["node"] == "plan")
    assert plan["events"][0]["kind"] == "model_call" and plan["events"][0]["input_tokens"] > 0
    assert all(n["duration_ms"] >= 0 for n in trace["nodes"])
    for refused in (stolen, nobody, odd):
        assert refused.status_code == 404 and set(refused.json()) == {"error", "fix"}


def test_a_decision_that_comes_too_late_says_who_decided(isolated: Path) -> None:
    with running(create_app(web_agent(isolated), tokens=TOKENS)) as client:
        body = {"request": "release it", "thread_id": "r"}
        waiting = client.post("/invoke", json=body, headers=ANN).json()
        calls = [p["call_id"] for p in waiting["pending_approvals"]]
        decisions = {"decisions": {calls[0]: True, calls[1]: False}, "owner": "ann"}
        refused = client.post("/threads/r/resume", json=decisions, headers=ANN)
        listed = client.get("/approvals", headers=LEAD).json()
        decided = client.post("/threads/r/resume", json=decisions, headers=LEAD)
        again = client.post("/threads/r/resume", json=decisions, headers=LEAD)
        late = client.post("/threads/r/resume", json=decisions, headers=ANN)
        stranger = client.post("/threads/r/resume", json=decisions, headers=EVE)
    assert refused.status_code == 403 and "approve:release" in refused.json()["fix"]
    assert {a["call_id"] for a in listed} == set(calls) and listed[0]["owner"] == "ann"
    assert decided.status_code == 200 and decided.json()["stop_reason"] == "answered"
    for conflict in (again, late):
        assert conflict.status_code == 409, conflict.text
        error = conflict.json()["error"]
        assert f"release [{calls[0]}] approved by lead" in error
        assert f"release [{calls[1]}] rejected by lead" in error
    assert stranger.status_code == 404  # not theirs to see, decided or not


def test_the_log_is_read_again_only_when_it_changed(isolated: Path) -> None:
    from podium.server import history

    with running(create_app(web_agent(isolated), tokens=TOKENS)) as client:
        body = {"request": "status of order A-1", "thread_id": "c"}
        client.post("/invoke", json=body, headers=ANN)
        assert len(client.get("/threads/c/runs", headers=ANN).json()) == 1
        directory = isolated / "audit"
        stamp, runs = history._READ[directory]
        assert len(client.get("/threads/c/runs", headers=ANN).json()) == 1
        assert history._READ[directory][1] is runs  # not read again
        client.post("/invoke", json=body, headers=ANN)
        assert len(client.get("/threads/c/runs", headers=ANN).json()) == 2
    assert history._READ[directory][0] != stamp
