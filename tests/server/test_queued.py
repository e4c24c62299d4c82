"""`podium serve` with a database: runs go to the job queue and real workers carry them out."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from podium.server.app import create_app
from tests.server.cluster import Cluster, cluster_agent
from tests.server.test_app import running


@pytest.mark.slow
def test_serve_queues_runs_that_workers_carry_out_and_streams_them(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTER_ROUNDS", "3")
    cluster = Cluster(database_url, tmp_path, latency=0.3, concurrency=2)
    cluster.start(2)
    try:
        with running(create_app(cluster_agent(database_url))) as client:
            answer = client.post("/invoke", json={"request": "hello", "thread_id": "q1"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["answer"] == "done: hello"
            # a worker ran it: its effects are in the database, its result in the queue's table
            assert cluster.rows("SELECT count(*) FROM effects WHERE tag LIKE 'hello#%%'") == [(3,)]

            body = {"request": "streamed", "thread_id": "q2"}
            with client.stream("POST", "/stream", json=body) as lines:
                reader = lines.iter_lines()
                run_id = json.loads(next(reader))["run"]["run_id"]
                first = json.loads(next(reader))
                assert "event" in first
            # the client left after one event: the run goes on, and can be attached to again
            busy = client.post(
                "/invoke",
                json={"request": "too soon", "thread_id": "q2", "multitask_strategy": "reject"},
            )
            assert busy.status_code == 409 and "is busy" in busy.text
            with client.stream("GET", f"/runs/{run_id}/stream?after={first['seq']}") as again:
                items = [json.loads(line) for line in again.iter_lines() if line]
            seqs = [item["seq"] for item in items if "event" in item]
            assert seqs and seqs[0] > first["seq"] and seqs == sorted(seqs)
            assert items[-1]["result"]["answer"] == "done: streamed"
            deadline = time.monotonic() + 30
            while (ended := client.get(f"/runs/{run_id}").json())["status"] == "pending":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert ended["answer"] == "done: streamed"
            assert client.get("/runs/nope").status_code == 404
    finally:
        cluster.stop()


@pytest.mark.slow
def test_an_event_posted_to_serve_becomes_a_job_a_worker_runs(
    database_url: str, tmp_path: Path
) -> None:
    from podium.server.triggers import Triggers

    rules = tmp_path / "triggers.yaml"
    rules.write_text("events:\n  - {event: ticket.created, request: 'ticket {id}'}\n")
    agent = cluster_agent(database_url)
    cluster = Cluster(database_url, tmp_path)
    with running(create_app(agent, Triggers.load(agent, rules))) as client:
        fired = client.post("/events/ticket.created", json={"id": 7})  # no worker is up yet
        assert fired.status_code == 200, fired.text
        run_id = fired.json()[0]["trace_id"]
    cluster.start(1)  # the server is gone; the job is still there, and a worker takes it
    try:
        done = cluster.results([run_id], 90)
    finally:
        cluster.stop()
    assert done[run_id]["result"]["answer"] == "done: ticket 7"


@pytest.mark.slow
def test_an_approval_outlives_the_worker_that_ran_into_it(
    database_url: str, tmp_path: Path
) -> None:
    cluster = Cluster(database_url, tmp_path)
    cluster.start(1)
    try:
        with running(create_app(cluster_agent(database_url))) as client:
            body = {"request": "release 2.1", "thread_id": "ap"}
            waiting = client.post("/invoke", json=body).json()
            assert waiting["stop_reason"] == "awaiting_approval", waiting
            cluster.kill(0)  # the worker that ran it is gone; another one starts
            [pending] = client.get("/threads/ap/approvals").json()
            assert pending["tool"] == "release"
            assert cluster.rows("SELECT count(*) FROM effects") == [(0,)]
            decisions = {"decisions": {pending["call_id"]: True}}
            done = client.post("/threads/ap/resume", json=decisions)
            assert done.status_code == 200, done.text
            assert done.json()["answer"] == "done: release 2.1"
            assert client.get("/threads/ap/approvals").json() == []
    finally:
        cluster.stop()
    assert cluster.rows("SELECT tag FROM effects") == [("release 2.1",)]


@pytest.mark.slow
def test_a_client_of_serve_gets_the_tokens_live_from_the_worker_that_streams_them(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTER_STREAM", "1")  # the workers' model streams word by word
    monkeypatch.setenv("CLUSTER_ROUNDS", "1")
    cluster = Cluster(database_url, tmp_path, latency=0.3, concurrency=2)
    cluster.start(1)
    try:
        with running(create_app(cluster_agent(database_url))) as client:
            body = {"request": "say it in words", "thread_id": "tok"}
            tokens, ended_at_first_token = [], None
            with client.stream("POST", "/stream", json=body) as lines:
                reader = (json.loads(line) for line in lines.iter_lines() if line)
                run_id = next(reader)["run"]["run_id"]
                items = []
                for item in reader:
                    items.append(item)
                    if item.get("event", {}).get("kind") == "token":
                        if ended_at_first_token is None:  # is the run still going?
                            ended_at_first_token = cluster.rows(
                                "SELECT count(*) FROM podium_run_results WHERE run = %s", run_id
                            )[0][0]
                        tokens.append(item["event"]["text"])
    finally:
        cluster.stop()
    answer = items[-1]["result"]["answer"]
    assert answer == "done: say it in words"
    assert len(tokens) == 5 and "".join(tokens) == answer  # word by word, in order
    assert ended_at_first_token == 0  # the first word came while the run went on


@pytest.mark.slow
def test_a_nul_character_is_refused_by_name_not_a_500(database_url: str, tmp_path: Path) -> None:
    # Postgres keeps no NUL in text: a request, a run id, a decision's reason or call id, or
    # an event's payload holding one reached the database and the service answered 500.
    from podium.server.triggers import Triggers

    rules = tmp_path / "triggers.yaml"
    rules.write_text("events:\n  - {event: ticket, request: 'release {version}'}\n")
    agent = cluster_agent(database_url)
    with running(create_app(agent, Triggers.load(agent, rules))) as client:  # no worker needed
        answers = [
            client.post("/invoke", json={"request": "hello \u0000 there", "thread_id": "n1"}),
            client.post("/stream", json={"request": "hi \u0000", "thread_id": "n2"}),
            client.get("/runs/ab%00cd"),
            client.get("/runs/ab%00cd/stream"),
            client.post(
                "/threads/n3/resume",
                json={"decisions": {"call_1": {"approved": False, "reason": "no\u0000"}}},
            ),
            client.post("/threads/n3/resume", json={"decisions": {"\u0000": True}}),
            client.post("/events/ticket", json={"version": "1\u0000"}),
            client.post(
                "/events/ticket",
                content=b'{"version": "\\ud800"}',
                headers={"content-type": "application/json"},
            ),
        ]
    assert [a.status_code for a in answers] == [400, 400, 404, 404, 400, 400, 400, 400], [
        a.text for a in answers
    ]
    assert "holds a NUL character" in answers[0].json()["error"]
    assert "the reason given for call 'call_1' holds a NUL" in answers[4].json()["error"]
    assert "the call id '\\x00' of a decision holds a NUL" in answers[5].json()["error"]
    assert "payload field 'version' holds a NUL" in answers[6].json()["error"]
    surrogate = answers[7].json()["error"]
    assert "payload field 'version' holds a character that is not valid Unicode" in surrogate
    queued = Cluster(database_url, tmp_path).rows("SELECT count(*) FROM procrastinate_jobs")
    assert queued == [(0,)]  # none of them was queued


@pytest.mark.slow
def test_agui_and_a2a_runs_go_to_the_workers_too(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AG-UI and A2A ran the agent in the API process, beside the queue: two runs of one
    # thread at once, and serve ran what it says it never runs. Now a worker runs them.
    import asyncio

    from a2a.types import Part

    from tests.server.test_a2a import send

    monkeypatch.setenv("CLUSTER_ROUNDS", "2")
    cluster = Cluster(database_url, tmp_path, concurrency=2)
    cluster.start(1)
    try:
        with running(create_app(cluster_agent(database_url))) as client:
            body = {
                "threadId": "q",
                "runId": "r",
                "messages": [{"id": "u", "role": "user", "content": "second"}],
            }
            with client.stream("POST", "/agui", json=body) as answer:
                events = [
                    json.loads(line.removeprefix("data: "))
                    for line in answer.iter_lines()
                    if line.startswith("data: ")
                ]
            asked = asyncio.run(send(str(client.base_url), [Part(text="third")], None))
    finally:
        cluster.stop()
    [finished] = [e for e in events if e["type"] == "RUN_FINISHED"]
    assert "done: second" in json.dumps(finished)
    assert any("done: third" in str(update) for update in asked)
    ran = cluster.rows("SELECT tag FROM effects ORDER BY tag")
    assert [tag.split("#")[0] for (tag,) in ran] == ["second"] * 2 + ["third"] * 2
    jobs = cluster.rows("SELECT count(*) FROM podium_run_results")
    assert jobs == [(2,)]  # both went through the queue, and a worker ended them


@pytest.mark.slow
def test_agui_and_a2a_tell_of_a_run_the_queue_refused(database_url: str) -> None:
    # A NUL in an A2A context id or an AG-UI reason reached the database's insert; the error
    # was dropped, and the task stayed "working", the stream without an end.
    import asyncio

    from a2a.types import Part

    from tests.server.test_a2a import send, states

    resume = [
        {
            "interruptId": "call_1",
            "status": "resolved",
            "payload": {"approved": False, "reason": "no\u0000"},
        }
    ]
    body = {"threadId": "q", "runId": "r", "messages": [], "resume": resume}
    with running(create_app(cluster_agent(database_url))) as client:  # no worker needed
        sent = send(str(client.base_url), [Part(text="hello")], None, context_id="ctx\u0000x")
        events = asyncio.run(asyncio.wait_for(sent, 60))
        with client.stream("POST", "/agui", json=body) as answer:
            kinds = [
                json.loads(line.removeprefix("data: "))
                for line in answer.iter_lines()
                if line.startswith("data: ")
            ]
    assert states(events)[-1] == "TASK_STATE_FAILED"
    assert kinds[-1]["type"] == "RUN_ERROR" and "NUL" in kinds[-1]["message"]
