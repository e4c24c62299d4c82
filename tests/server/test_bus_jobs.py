"""A durable bus delivered by real worker processes: a kill mid-handler loses and repeats none."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from tests.server.cluster import Cluster, cluster_bus

EVENTS, ROUNDS = 6, 3


@pytest.mark.slow
def test_bus_events_are_delivered_once_each_across_workers_killed_mid_handler(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTER_ROUNDS", str(ROUNDS))
    cluster = Cluster(database_url, tmp_path, latency=0.3, concurrency=2)
    cluster.extra = ["--bus"]
    bus = cluster_bus(database_url)
    keys = [bus.publish("order", {"n": str(n)}, key=f"order-{n}") for n in range(EVENTS)]
    bus.publish("order", {"n": "0"}, key="order-0")  # the publisher retried: the same event
    cluster.start(2)
    killed: set[str] = set()
    try:
        deadline = time.monotonic() + 120
        while len(killed) < 2 and time.monotonic() < deadline:  # two kills mid-handler
            rows = cluster.rows(
                "SELECT a.tag, a.pid FROM attempts a WHERE a.tag LIKE 'order %%#0' AND NOT "
                "EXISTS (SELECT 1 FROM attempts b WHERE b.tag = "
                "replace(a.tag, '#0', '#' || %s))",
                str(ROUNDS - 1),
            )
            alive = {w.pid: n for n, w in enumerate(cluster.workers)}
            victims = [(tag, alive[pid]) for tag, pid in rows if pid in alive and tag not in killed]
            if victims:
                tag, index = victims[0]
                cluster.kill(index)  # its handler had begun and not ended
                killed.add(tag)
            time.sleep(0.1)
        expected = 2 * EVENTS  # recorder on each order, auditor on each answer
        while len(bus.deliveries()) < expected and time.monotonic() < deadline + 120:
            time.sleep(0.5)
    finally:
        cluster.stop()
    assert len(killed) == 2
    deliveries = bus.deliveries()
    per_handler = Counter((d.event, d.agent) for d in deliveries)
    assert len(deliveries) == 2 * EVENTS and set(per_handler.values()) == {1}
    assert all(d.status == "answered" for d in deliveries), deliveries
    by_recorder = {d.event: d for d in deliveries if d.agent == "recorder"}
    assert set(by_recorder) == set(keys)
    answers = sorted(d.answer for d in deliveries if d.agent == "auditor")
    assert answers == sorted(f"done: audit {n}" for n in range(EVENTS))
    effects = Counter(tag for (tag,) in cluster.rows("SELECT tag FROM effects"))
    assert len(effects) == 2 * EVENTS * ROUNDS and set(effects.values()) == {1}  # none twice
    for tag in killed:  # the killed handler's job was started again, by another worker
        key = "order-" + tag.split(" ")[1].split("#")[0]
        starts = cluster.rows(
            "SELECT count(*) FROM procrastinate_events e JOIN procrastinate_jobs j "
            "ON j.id = e.job_id WHERE e.type = 'started' AND j.args->>'event' = %s "
            "AND j.args->>'subscriber' = 'recorder'",
            key,
        )
        assert starts[0][0] >= 2, (tag, starts)


async def test_a_bus_job_for_no_known_subscriber_is_moved_aside_with_the_reason(
    database_url: str,
) -> None:
    import asyncio
    from types import SimpleNamespace

    from podium.server.worker import UnreadableJob, Worker
    from tests.server.cluster import cluster_agent, prepare

    await asyncio.to_thread(prepare, database_url)
    bus = cluster_bus(database_url)
    key = await asyncio.to_thread(bus.publish, "order", {"n": "1"})
    worker = Worker(cluster_agent(database_url), bus=bus)
    job = SimpleNamespace(id=9, task_name="podium.bus")
    with pytest.raises(UnreadableJob):  # a subscriber another version of the bus had
        await worker._deliver(SimpleNamespace(job=job), event=key, subscriber="gone")
    with worker.storage.connection() as db:
        moved = db.execute("SELECT job_id, reason FROM podium_dead_jobs").fetchall()
    assert moved[0][0] == 9 and "cannot be delivered" in moved[0][1]
    assert "no subscriber named 'gone'" in moved[0][1] and "recorder" in moved[0][1]
