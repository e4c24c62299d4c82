"""Real worker processes over a real Postgres, for the many-workers tests and the benchmark.

``python -m tests.server.cluster URL`` runs one `podium worker` loop whose agent has a
scripted model (its plan depends only on the conversation, so any worker continues any run)
and one side-effecting tool, ``record``, that writes to the table ``effects`` under its
idempotency key (as a payment API keyed by it would) and counts every execution in
``attempts`` (with the worker's pid). ``Cluster`` starts, kills and restarts such workers
and submits runs. With ``--bus`` a worker also delivers the events of ``cluster_bus``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGenerationChunk

from podium.agent import Agent
from podium.config import Settings
from podium.identity import Principal
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import ToolContext, tool

if TYPE_CHECKING:
    from podium.patterns.bus import EventBus

ROOT = Path(__file__).resolve().parents[2]
EFFECTS = """
CREATE TABLE IF NOT EXISTS effects (id bigserial, key text PRIMARY KEY, tag text NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (id bigserial PRIMARY KEY, key text, tag text, pid int);
"""


def plan(messages: list[BaseMessage]) -> AIMessage:
    """Call ``record`` ``rounds`` times with the request as its tag, then answer."""
    last = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    request = str(messages[last].content)
    done = [m for m in messages[last:] if isinstance(m, ToolMessage)]
    rounds = int(os.environ.get("CLUSTER_ROUNDS", "1"))
    if request.startswith("release") and not done:  # a call that waits for a person's yes
        return calls(call("release", "r0", tag=request))
    if request.startswith("release"):
        return AIMessage(content=f"done: {request}")
    if len(done) < rounds:
        return calls(call("record", f"c{len(done)}", tag=f"{request}#{len(done)}"))
    return AIMessage(content=f"done: {request}")


def effect(url: str, tag: str, key: str) -> str:
    """Do the work tagged ``tag`` once for ``key`` (as an API keyed by it would); count tries."""
    from podium.storage.postgres import PostgresStorage

    with PostgresStorage(url).connection() as db:  # the process's pool: no connect a call
        db.execute(
            "INSERT INTO attempts (key, tag, pid) VALUES (%s, %s, %s)", (key, tag, os.getpid())
        )
        db.execute(
            "INSERT INTO effects (key, tag) VALUES (%s, %s) ON CONFLICT DO NOTHING", (key, tag)
        )
    return f"recorded {tag}"


class ScriptedStreamingChatModel(ScriptedChatModel):
    """The scripted model, streaming its answers a word at a time (``latency`` between words).

    A reply with tool calls comes as one piece, as a provider sends a call's arguments.
    """

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        import json

        latency, self.latency = self.latency, 0.0
        try:
            reply = (await self._agenerate(messages, stop, **kwargs)).generations[0].message
        finally:
            self.latency = latency
        assert isinstance(reply, AIMessage)
        if reply.tool_calls:
            chunks = [
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(reply.tool_calls)
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks))
            return
        words = str(reply.content).split(" ")
        for index, word in enumerate(words):
            await asyncio.sleep(latency)
            text = word if index == len(words) - 1 else word + " "
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))


def cluster_agent(url: str, latency: float = 0.0) -> Agent:
    """The agent every worker of the cluster runs."""

    @tool(side_effects=True)
    def record(tag: str, context: ToolContext) -> str:
        """Record that the work tagged ``tag`` was done."""
        return effect(url, tag, context.idempotency_key)

    @tool(needs_approval=True, side_effects=True)
    def release(tag: str, context: ToolContext) -> str:
        """Release the version tagged ``tag`` (a person approves it first)."""
        return effect(url, tag, context.idempotency_key)

    settings = Settings.load(database_url=url, audit=False, durability="sync")
    streams = os.environ.get("CLUSTER_STREAM") == "1"
    kind = ScriptedStreamingChatModel if streams else ScriptedChatModel
    model = kind(turns=[plan], repeat_last=True, latency=latency)
    return Agent([record, release], model=model, guards=None, settings=settings)


def cluster_bus(url: str, latency: float = 0.0) -> EventBus:
    """A durable bus: ``order`` wakes ``recorder``, whose answer (on ``recorded``) wakes
    ``auditor``; both run the cluster's agent, so their tool calls land in ``effects``."""
    from podium.guardrails.policy import Policy
    from podium.patterns.bus import EventBus

    bus = EventBus(Policy(), database_url=url)
    bus.subscribe("recorder", cluster_agent(url, latency), "order", "order {n}", "recorded")
    bus.subscribe("auditor", cluster_agent(url, latency), "recorded", "audit {n}")
    return bus


def prepare(url: str) -> None:
    """The cluster's tables, beside podium's."""
    import psycopg

    from podium.storage.postgres import PostgresStorage

    PostgresStorage(url).prepare()
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(EFFECTS)


class Cluster:
    """Worker processes on one database: start, kill, restart, submit, wait."""

    def __init__(self, url: str, home: Path, latency: float = 0.0, concurrency: int = 4) -> None:
        self.url, self.home, self.latency, self.concurrency = url, home, latency, concurrency
        self.workers: list[subprocess.Popen[bytes]] = []
        self.started: list[float] = []  # when each worker was started (monotonic)
        self.extra: list[str] = []
        prepare(url)

    def start(self, count: int = 1, *extra: str) -> None:
        """Start ``count`` more workers."""
        for _ in range(count):
            self.workers.append(self._spawn(len(self.workers), *extra or self.extra))
            self.started.append(time.monotonic())

    def _spawn(self, index: int, *extra: str) -> subprocess.Popen[bytes]:
        log = open(self.home / f"worker-{index}-{time.monotonic_ns()}.log", "ab")
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PODIUM_HOME": str(self.home / "home"),
            "CLUSTER_LATENCY": str(self.latency),
        }
        command = [sys.executable, "-m", "tests.server.cluster", self.url, str(self.concurrency)]
        return subprocess.Popen([*command, *extra], env=env, stdout=log, stderr=log, cwd=ROOT)

    def kill(self, index: int) -> None:
        """SIGKILL worker ``index`` and start a new one in its place."""
        self.workers[index].send_signal(signal.SIGKILL)
        self.workers[index].wait(30)
        self.workers[index] = self._spawn(index, *self.extra)
        self.started[index] = time.monotonic()

    def stop(self) -> None:
        """SIGTERM every worker and wait for it."""
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        self.workers.clear()
        self.started.clear()

    def submit(self, thread: str, request: str, strategy: str = "enqueue") -> str:
        """Queue a run as ``serve`` does; its run id."""
        from podium.server.queue import RunJob, RunQueue, new_run_id
        from podium.storage.postgres import PostgresStorage

        job = RunJob(
            run_id=new_run_id(),
            thread=thread,
            request=request,
            principal=Principal.local().model_dump_json(),
        )
        RunQueue(PostgresStorage(self.url)).submit(job, strategy)  # type: ignore[arg-type]
        return job.run_id

    def results(self, run_ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
        """Wait until every run has a result (or ``timeout``); those found."""
        import psycopg

        deadline = time.monotonic() + timeout
        while True:  # at least one look, even with no time to wait
            with psycopg.connect(self.url) as db:
                rows = db.execute(
                    "SELECT run, result FROM podium_run_results WHERE run = ANY(%s)", (run_ids,)
                ).fetchall()
            found = {r: dict(v) for r, v in rows}
            if len(found) == len(run_ids) or time.monotonic() >= deadline:
                return found
            time.sleep(0.2)

    def rows(self, query: str, *arguments: Any) -> list[tuple[Any, ...]]:
        """Rows of a query on the cluster's database."""
        import psycopg

        with psycopg.connect(self.url) as db:
            return db.execute(query, arguments).fetchall()


def main() -> None:
    """One worker: ``python -m tests.server.cluster URL CONCURRENCY [--triggers FILE] [--bus]``."""
    import logging

    from podium.server.triggers import Triggers
    from podium.server.worker import Worker

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    url, concurrency = sys.argv[1], int(sys.argv[2])
    agent = cluster_agent(url, float(os.environ.get("CLUSTER_LATENCY", "0")))
    triggers = None
    if "--triggers" in sys.argv:
        triggers = Triggers.load(agent, Path(sys.argv[sys.argv.index("--triggers") + 1]))
    latency = float(os.environ.get("CLUSTER_LATENCY", "0"))
    bus = cluster_bus(url, latency) if "--bus" in sys.argv else None
    asyncio.run(Worker(agent, concurrency, triggers, grace=5.0, bus=bus).run())


if __name__ == "__main__":
    main()
