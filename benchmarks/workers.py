"""Runs per second with 1, 2, 4 and 8 `podium worker` processes on one Postgres.

Each run's scripted model takes 200 ms a turn and makes 2 tool rounds (3 turns, so at least
0.6 s a run, nearly all of it waiting); each worker carries one run at a time, so N workers
should finish N times as many runs a second. Beside them: one worker carrying 8 at once,
and the same runs in one process on SQLite, 8 at once (its tool writes nothing; the
workers' tool writes its effect to Postgres). Pickup latency is from a job's insert to a
worker starting it (procrastinate's own events), measured apart: PICKUPS runs one after
another, every worker idle, so it is the queue's latency and not time spent waiting behind
other runs. Takeover: seconds from a SIGKILL of the worker running a run to another
worker starting it again. Starts its own Postgres (tests/postgres.py).

    python benchmarks/workers.py [--runs-per-worker 12] [--counts 1,2,4,8] [--kills 5]

Columns: runs/s; of linear (against the 1-worker row of the same run); of ideal (against
N x 1.67 runs/s, a run that only waits); pickup p50 and p95.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LATENCY, ROUNDS, PICKUPS = 0.2, 2, 20
IDEAL = 1 / ((ROUNDS + 1) * LATENCY)  # runs a second one run at a time can reach: all waiting


def cluster_rate(
    server: object, workers: int, runs: int, at_once: int = 1
) -> tuple[float, list[float]]:
    from tests.server.cluster import Cluster

    url = server.create_database()  # type: ignore[attr-defined]
    cluster = Cluster(url, Path(tempfile.mkdtemp()), latency=LATENCY, concurrency=at_once)
    cluster.start(workers)
    try:  # every worker warmed up (imports done) before the clock starts
        warm = [cluster.submit(f"local:warm{n}", "warm") for n in range(workers * 2)]
        cluster.results(warm, 300)
        started = time.perf_counter()
        ids = [cluster.submit(f"local:b{n}", f"run {n}") for n in range(runs)]
        done = cluster.results(ids, 600)
        elapsed = time.perf_counter() - started
        pickup = []  # then with every worker idle: one run at a time, insert to start
        for n in range(PICKUPS):
            run_id = cluster.submit(f"local:p{n}", "pick me")
            cluster.results([run_id], 60)
            pickup += cluster.rows(
                "SELECT extract(epoch FROM s.at - d.at) FROM procrastinate_events d "
                "JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started' "
                "JOIN procrastinate_jobs j ON j.id = d.job_id "
                "WHERE d.type = 'deferred' AND j.args->'payload'->>'run_id' = %s",
                run_id,
            )
    finally:
        cluster.stop()
    assert len(done) == runs
    return runs / elapsed, [float(p) for (p,) in pickup]


def takeover(server: object, tries: int) -> list[float]:
    """Seconds from a SIGKILL of the worker running a run to another worker starting it."""
    from tests.server.cluster import Cluster

    url = server.create_database()  # type: ignore[attr-defined]
    os.environ["CLUSTER_ROUNDS"] = "40"  # a run long enough to be killed in the middle
    cluster = Cluster(url, Path(tempfile.mkdtemp()), latency=LATENCY, concurrency=1)
    cluster.start(2)
    found = []
    try:
        cluster.results([cluster.submit(f"local:w{n}", "warm") for n in range(4)], 300)
        for n in range(tries):
            run_id = cluster.submit(f"local:k{n}", f"long {n}")
            tag = f"long {n}#%%"
            while not (rows := cluster.rows("SELECT pid FROM attempts WHERE tag LIKE %s", tag)):
                time.sleep(0.05)
            victim = next(i for i, w in enumerate(cluster.workers) if w.pid == rows[0][0])
            killed = time.time()
            cluster.kill(victim)
            cluster.results([run_id], 300)
            started = cluster.rows(
                "SELECT max(extract(epoch FROM e.at)) FROM procrastinate_events e "
                "JOIN procrastinate_jobs j ON j.id = e.job_id "
                "WHERE e.type = 'started' AND j.args->'payload'->>'run_id' = %s",
                run_id,
            )
            found.append(float(started[0][0]) - killed)
            time.sleep(8)  # the new worker is up before the next kill
    finally:
        cluster.stop()
        os.environ["CLUSTER_ROUNDS"] = str(ROUNDS)
    return found


def sqlite_rate(runs: int, at_once: int = 8) -> float:
    from podium.agent import Agent
    from podium.config import Settings
    from podium.planner.models.scripted import ScriptedChatModel
    from tests.server.cluster import plan

    home = Path(tempfile.mkdtemp())
    settings = Settings.load(home=home, audit=False)
    model = ScriptedChatModel(turns=[plan], repeat_last=True, latency=LATENCY)
    from podium.tools.registry import tool

    @tool(side_effects=True)
    def record(tag: str) -> str:
        """Record that the work tagged ``tag`` was done."""
        return f"recorded {tag}"

    agent = Agent([record], model=model, guards=None, settings=settings)

    async def main() -> float:
        gate = asyncio.Semaphore(at_once)

        async def one(n: int) -> None:
            async with gate:
                await agent.ainvoke(f"run {n}", thread_id=f"b{n}")

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(runs)))
        return runs / (time.perf_counter() - started)

    return asyncio.run(main())


def main() -> None:
    from tests.postgres import PostgresServer

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs-per-worker", type=int, default=12)
    parser.add_argument("--counts", default="1,2,4,8")
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    os.environ["CLUSTER_ROUNDS"] = str(ROUNDS)
    server = PostgresServer()
    server.start()
    try:
        rows, base = [], 0.0
        for count in [int(c) for c in args.counts.split(",")]:
            rate, pickup = cluster_rate(server, count, args.runs_per_worker * count)
            base = base or rate / count
            pickup.sort()
            p95 = pickup[int(len(pickup) * 0.95) - 1] if pickup else float("nan")
            rows.append(
                f"| {count} workers | {rate:.2f} | {rate / (base * count):.2f} | "
                f"{rate / (IDEAL * count):.2f} | "
                f"{statistics.median(pickup) * 1000:.0f} ms | {p95 * 1000:.0f} ms |"
            )
            print(rows[-1], flush=True)
        rate, _ = cluster_rate(server, 1, args.runs_per_worker * 8, at_once=8)
        print(f"| 1 worker, 8 runs at once | {rate:.2f} | | {rate / (IDEAL * 8):.2f} | | |")
        sqlite = sqlite_rate(args.runs_per_worker * 8)
        print(
            f"| one process, SQLite, 8 at once | {sqlite:.2f} | | {sqlite / (IDEAL * 8):.2f} | | |"
        )
        taken = sorted(takeover(server, args.kills))
        print(
            f"takeover after SIGKILL ({len(taken)} kills): median {statistics.median(taken):.1f} s,"
            f" max {taken[-1]:.1f} s"
        )
    finally:
        server.close()


if __name__ == "__main__":
    main()
