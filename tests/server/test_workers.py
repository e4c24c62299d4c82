"""Many workers on one Postgres: failover, double-texting, schedules, restarts (real processes)."""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.postgres import PostgresServer
from tests.server.cluster import Cluster

THREADS, TURNS, KILLS = 30, 10, 20
WARM = 3.0  # seconds a worker needs to start taking jobs (imports, connections)


@pytest.mark.slow
def test_killed_workers_lose_no_run_and_repeat_no_effect(
    database_url: str, tmp_path: Path
) -> None:
    # Answers stream a word every 0.3 s, so that the runs outlast the kills (on a fast
    # machine 300 instant runs ended after 13 of them) and kills land mid-answer too.
    cluster = Cluster(database_url, tmp_path, latency=0.3, concurrency=4)
    cluster.start(3)
    try:
        runs = {}  # run id -> (thread, turn)
        for turn in range(TURNS):
            for thread in range(THREADS):
                run_id = cluster.submit(f"local:t{thread}", f"t{thread} turn {turn}")
                runs[run_id] = (thread, turn)
        chance = random.Random(18)
        kills = 0  # kills of a worker past its start-up, while runs were still going
        while kills < KILLS and len(cluster.results(list(runs), 0)) < len(runs):
            time.sleep(chance.uniform(0.2, 1.2))
            up = [n for n, at in enumerate(cluster.started) if time.monotonic() - at > WARM]
            if up:
                cluster.kill(chance.choice(up))
                kills += 1
        results = cluster.results(list(runs), 180)
    finally:
        cluster.stop()
    assert kills >= KILLS, f"the runs all ended after {kills} kills: make them longer"
    assert len(results) == len(runs), f"{len(runs) - len(results)} runs never ended"
    for run_id, (thread, turn) in runs.items():  # every run completed, with its own answer
        ended = results[run_id]
        assert "result" in ended, f"run {run_id} ended without a result: {ended}"
        assert ended["result"]["answer"] == f"done: t{thread} turn {turn}", run_id
    effects = cluster.rows("SELECT tag FROM effects ORDER BY id")
    per_tag = Counter(tag for (tag,) in effects)
    assert len(per_tag) == len(runs) and set(per_tag.values()) == {1}  # 0 duplicate effects
    order: dict[str, list[int]] = defaultdict(list)
    for (tag,) in effects:
        thread, turn = tag.split("#")[0].split(" turn ")
        order[thread].append(int(turn))
    assert all(turns == sorted(turns) for turns in order.values())  # turns kept their order
    finished = cluster.rows(
        "SELECT count(DISTINCT run) FROM podium_run_events WHERE event->>'kind' = 'run_finished'"
    )
    assert finished == [(len(runs),)]  # every run's stream reached its end: no event lost
    attempts = cluster.rows("SELECT count(*) FROM attempts")[0][0]
    assert attempts - len(runs) <= KILLS  # a call repeats only when a kill fell in its window


def _wait_running(cluster: Cluster, run_id: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cluster.rows(
            "SELECT 1 FROM podium_run_events WHERE run = %s AND event->>'kind' = 'tool_call'",
            run_id,
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never got going")


def _messages(cluster: Cluster, thread: str) -> list[str]:
    import asyncio

    from podium.storage.postgres import PostgresStorage

    async def read() -> list[str]:
        async with PostgresStorage(cluster.url).checkpointer() as saver:
            found = await saver.aget_tuple({"configurable": {"thread_id": thread}})
        assert found is not None
        return [str(m.content) for m in found.checkpoint["channel_values"]["messages"]]

    return asyncio.run(read())


@pytest.mark.slow
def test_double_texting_follows_the_callers_strategy(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.errors import Conflict

    monkeypatch.setenv("CLUSTER_ROUNDS", "6")  # a run of six slow rounds: time to double-text
    cluster = Cluster(database_url, tmp_path, latency=0.3, concurrency=2)
    cluster.start(2)
    try:
        first = cluster.submit("local:a", "first")
        _wait_running(cluster, first)
        with pytest.raises(Conflict, match="is busy"):
            cluster.submit("local:a", "rejected", "reject")
        queued = cluster.submit("local:a", "second")  # enqueue: after the first
        done = cluster.results([first, queued], 120)
        assert [done[r]["result"]["answer"] for r in (first, queued)] == [
            "done: first",
            "done: second",
        ]
        assert "rejected" not in _messages(cluster, "local:a")

        kept = cluster.submit("local:b", "kept")
        _wait_running(cluster, kept)
        newer = cluster.submit("local:b", "interrupting", "interrupt")
        done = cluster.results([kept, newer], 120)
        assert done[kept]["stop_reason"] == "interrupted"
        assert done[newer]["result"]["answer"] == "done: interrupting"
        assert "kept" in _messages(cluster, "local:b")  # what it did stays in the thread

        undone = cluster.submit("local:c", "undone")
        _wait_running(cluster, undone)
        again = cluster.submit("local:c", "instead", "rollback")
        done = cluster.results([undone, again], 120)
        assert done[undone]["stop_reason"] == "rolled_back"
        assert "result" in done[again], done[again]
        assert done[again]["result"]["answer"] == "done: instead"
        assert "undone" not in _messages(cluster, "local:c")  # as if it never ran
    finally:
        cluster.stop()


@pytest.mark.slow
def test_a_schedule_fires_once_per_slot_across_three_workers(
    database_url: str, tmp_path: Path
) -> None:
    triggers = tmp_path / "triggers.yaml"
    triggers.write_text(
        'schedules:\n  - {name: tick, cron: "* * * * * */2", request: "tick"}\n'
    )
    cluster = Cluster(database_url, tmp_path)
    cluster.extra = ["--triggers", str(triggers)]
    cluster.start(3)
    query = "SELECT firing->>'at', count(*) FROM podium_firings GROUP BY 1 ORDER BY 1"
    try:  # until three slots fired (start-up time varies with the machine's load), then 4 s
        deadline = time.monotonic() + 90
        while len(cluster.rows(query)) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(4)
    finally:
        cluster.stop()
    fired = cluster.rows(query)
    assert len(fired) >= 3, fired
    assert all(count == 1 for _, count in fired), fired  # each slot once, not once a worker
    # A slot fired just before the shutdown left its run queued or kept: a worker started
    # afterwards (no schedule now) finishes it, and no slot's run is lost or run twice.
    runs = [r for (r,) in cluster.rows("SELECT firing->>'trace_id' FROM podium_firings")]
    cluster.extra = []
    cluster.start(1)
    try:
        done = cluster.results(runs, 90)
    finally:
        cluster.stop()
    assert len(done) == len(runs), sorted(set(runs) - set(done))
    assert cluster.rows(query) == fired
    slots = cluster.rows("SELECT count(*), count(DISTINCT key) FROM effects")[0]
    assert slots[0] == slots[1] == len(fired)  # and each slot's run ran once


@pytest.mark.slow
def test_a_postgres_restart_mid_run_loses_no_run(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTER_ROUNDS", "3")
    # Durable, as a production database is: the test server commits asynchronously, and a
    # crash of it lost a write the tool had been told was done (an effect missing, its call ok).
    url = postgres_server.create_database(durable=True)
    cluster = Cluster(url, tmp_path, latency=0.2, concurrency=4)
    cluster.start(2)
    try:
        runs = [cluster.submit(f"local:r{n % 4}", f"r{n % 4} turn {n}") for n in range(16)]
        _wait_running(cluster, runs[0])
        postgres_server.restart()  # as a crash would: every connection is cut
        results = cluster.results(runs, 180)
    finally:
        cluster.stop()
    assert len(results) == len(runs)  # they waited for the database and went on
    assert all(r["result"]["answer"].startswith("done:") for r in results.values()), results
    per_tag = Counter(tag for (tag,) in cluster.rows("SELECT tag FROM effects"))
    assert set(per_tag.values()) == {1}  # no effect twice
    # Every effect is there, but one whose own call failed while the database was down
    # (the tool's write was refused: the run says so, and the scripted model goes on).
    expected = {f"r{n % 4} turn {n}#{i}" for n in range(16) for i in range(3)}
    failed = {
        call["arguments"]["tag"]
        for result in results.values()
        for call in result["result"]["tool_calls"]
        if call["status"] != "ok"
    }
    assert expected - set(per_tag) <= failed and len(failed) < len(expected) // 4
    logs = " ".join(log.read_text() for log in tmp_path.glob("worker-*.log"))
    assert "fsync is off" in logs and "synchronous_commit" not in logs  # named at the start


@pytest.mark.slow
def test_sigterm_hands_back_the_runs_a_worker_holds(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    monkeypatch.setenv("CLUSTER_ROUNDS", "8")
    cluster = Cluster(database_url, tmp_path, latency=0.3, concurrency=2)
    cluster.start(1)
    try:
        run = cluster.submit("local:s", "long")
        _wait_running(cluster, run)
        cluster.start(1)
        cluster.workers[0].send_signal(signal.SIGTERM)  # its grace (5 s) ends mid-run
        assert cluster.workers[0].wait(60) is not None
        result = cluster.results([run], 120)
    finally:
        cluster.stop()
    assert result[run]["result"]["answer"] == "done: long"
    assert cluster.rows("SELECT count(*), count(DISTINCT key) FROM effects") == [(8, 8)]


def test_a_worker_on_sqlite_is_refused_with_the_reason() -> None:
    from podium.agent import Agent
    from podium.errors import ConfigError
    from podium.server.worker import Worker

    with pytest.raises(ConfigError) as raised:
        Worker(Agent(guards=None))
    assert "job queue in Postgres" in raised.value.problem
    assert "PODIUM_DATABASE_URL" in raised.value.fix


async def test_a_payload_that_does_not_parse_is_moved_aside(database_url: str) -> None:
    import asyncio
    from types import SimpleNamespace

    from podium.server.worker import UnreadableJob, Worker
    from tests.server.cluster import cluster_agent

    await asyncio.to_thread(__import__("tests.server.cluster").server.cluster.prepare, database_url)
    worker = Worker(cluster_agent(database_url))
    job = SimpleNamespace(id=7, task_name="podium.run")
    with pytest.raises(UnreadableJob):
        await worker._run(SimpleNamespace(job=job), payload={"run_id": "r1", "thread": 3})
    rows = worker.queue.storage.connection
    with rows() as db:
        moved = db.execute("SELECT job_id, reason FROM podium_dead_jobs").fetchall()
    assert moved[0][0] == 7 and "does not parse" in moved[0][1]
    assert worker.queue.result("r1") is not None  # whoever waits for it hears why


@pytest.mark.slow
def test_a_worker_moves_an_unreadable_job_aside_and_goes_on(
    database_url: str, tmp_path: Path
) -> None:
    import json

    from podium.server.queue import RUN_QUEUE, RUN_TASK

    cluster = Cluster(database_url, tmp_path)
    bad = {"payload": {"run_id": "old1", "thread": "local:x", "kind": "replay"}}
    job_id = cluster.rows(
        "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, 'thread:local:x', "
        "NULL, %s::jsonb, NULL)::procrastinate_job_to_defer_v1]))",
        RUN_QUEUE,
        RUN_TASK,
        json.dumps(bad),
    )[0][0]
    good = cluster.submit("local:y", "after it")
    cluster.start(1)
    try:
        done = cluster.results([good, "old1"], 90)
    finally:
        cluster.stop()
    assert done[good]["result"]["answer"] == "done: after it"  # the queue went on
    assert "does not parse" in done["old1"]["error"]  # whoever waits for it hears why
    moved = cluster.rows("SELECT job_id, reason FROM podium_dead_jobs")
    assert [m[0] for m in moved] == [job_id] and "kind" in moved[0][1]
    status = cluster.rows("SELECT status::text FROM procrastinate_jobs WHERE id = %s", job_id)
    assert status == [("failed",)]  # not retried


@pytest.mark.slow
def test_a_slot_missed_while_no_worker_ran_fires_once_when_one_starts(
    database_url: str, tmp_path: Path
) -> None:
    triggers = tmp_path / "triggers.yaml"  # a slot at every minute's start
    triggers.write_text('schedules:\n  - {name: minutely, cron: "* * * * * 0", request: "m"}\n')
    cluster = Cluster(database_url, tmp_path)
    cluster.extra = ["--triggers", str(triggers)]
    if time.time() % 60 > 40:  # a worker starting across a minute's start would see it due
        time.sleep(61 - time.time() % 60)
    started = time.time()  # every slot before now was missed: no worker ran
    cluster.start(1)
    query = "SELECT (firing->>'at')::float FROM podium_firings ORDER BY 1"
    try:
        deadline = time.monotonic() + 90
        while not cluster.rows(query) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)
    finally:
        cluster.stop()
    missed = [at for (at,) in cluster.rows(query) if at < started]
    assert missed == [float(int(started) // 60 * 60)]  # the last one, once; none before it
    assert cluster.rows("SELECT count(*) FROM effects") == [(len(cluster.rows(query)),)]
