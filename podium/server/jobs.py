"""One queued run, carried out by a worker: started, resumed after a crash, or stopped.

A job may reach a worker more than once (its first worker died, or shut down before it
ended): each time, what the database says decides what to do. A run whose result is
recorded is over; a run the index shows running goes on from its last checkpoint
(``Agent.aresume``, which also starts again a run whose input never reached the
checkpoints); a run never begun starts, under the id the queue gave it. So a run is taken
exactly once, its steps happen at least once, and a side effect once per idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from podium.errors import PodiumError, StorageUnavailable
from podium.identity import Principal
from podium.server.queue import FEED_CHANNEL, RunJob, RunQueue, record_result, thread_lock

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.results import RunResult
    from podium.storage.postgres import PostgresStorage
    from podium.tracing.events import Event

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.05  # how long a run's new events wait before they are written


class LeaseBusy(PodiumError):
    """Another worker still holds the thread (a run it was thought to have lost)."""


class RunLog:
    """What a run shows its watcher, written to podium_run_events in order, then announced."""

    def __init__(self, storage: PostgresStorage, run_id: str) -> None:
        self.storage, self.run_id = storage, run_id
        self._pending: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()  # one write at a time: the rows keep the run's order
        self._now = asyncio.Event()  # set when the run ended: write without waiting

    def watch(self, event: Event) -> None:
        """The run's watcher: keep the event for the next write."""
        self._pending.append(event.model_dump_json())
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._now.wait(), FLUSH_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        """Write what is pending (a run's events stay in the order it showed them)."""
        async with self._writing:
            if self._pending:
                batch, self._pending = self._pending, []
                await asyncio.to_thread(self._write, batch)

    def _write(self, batch: list[str]) -> None:
        # One statement, one round trip: the rows in their order, then the wake-up (the
        # notification is sent when the statement commits, with the rows).
        with self.storage.connection() as db:
            db.execute(
                "WITH written AS (INSERT INTO podium_run_events (run, event) "
                "SELECT %s, e FROM unnest(%s::jsonb[]) WITH ORDINALITY AS t(e, n) ORDER BY n "
                "RETURNING 1) SELECT pg_notify(%s, %s) FROM (SELECT count(*) FROM written) c",
                (self.run_id, batch, FEED_CHANNEL, self.run_id),
            )

    async def close(self) -> None:
        """Write the rest now, after the write under way."""
        self._now.set()
        if self._flusher is not None and not self._flusher.done():
            await self._flusher
        await self.flush()


@asynccontextmanager
async def lease(storage: PostgresStorage, thread: str, wait: float = 30.0) -> AsyncIterator[None]:
    """Hold the thread for this worker: a Postgres advisory lock on a connection of its own.

    A worker that dies loses its connection and with it the lock, at once; one that is
    alive but was thought dead (its heartbeat late) still holds it, so a second worker
    given the same run waits instead of running it beside the first. The connection comes
    from the worker's pool (``storage.session()``) and goes back to it unlocked.
    """
    async with storage.session() as connection:
        deadline = time.monotonic() + wait
        key = thread_lock(thread)
        while True:
            row = await (
                await connection.execute(
                    "SELECT pg_try_advisory_lock(hashtextextended(%s, 1))", (key,)
                )
            ).fetchone()
            if row and row[0]:
                break
            if time.monotonic() > deadline:
                raise LeaseBusy(
                    f"thread {thread} is still held by another worker after {wait:.0f} s",
                    "the job is retried; a worker that hangs holding it should be restarted",
                )
            await asyncio.sleep(0.2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a broken connection holds nothing anyway
                await connection.execute(
                    "SELECT pg_advisory_unlock(hashtextextended(%s, 1))", (key,)
                )


async def perform(agent: Agent, queue: RunQueue, job: RunJob, watch: RunLog) -> RunResult:
    """Carry the run out: start it, go on with it, or give back the result it reached."""
    storage = agent.storage
    last = await asyncio.to_thread(storage.runs().get, job.thread)
    watchers = [watch.watch]
    if job.kind == "invoke":
        if last is not None and last.run_id == job.run_id:
            if last.state == "running":  # its worker died mid-run: go on from the checkpoint
                return await _go_on(agent, queue, job, watch, last.run_id)
            return await ended(agent, queue, job, watch)  # it ended; its record was lost
        who = _as_listed(agent, job.principal)
        return await agent.ainvoke(
            job.request, job.thread, who, watchers=watchers, run_id=job.run_id
        )
    if last is not None and last.state == "running":  # a resume cut short: go on with it
        return await _go_on(agent, queue, job, watch, last.run_id)
    if last is not None and last.state == "done":
        return await ended(agent, queue, job, watch)
    from podium.planner.approvals import Approval

    decisions: dict[str, bool | Approval] = {
        call: value if isinstance(value, bool) else Approval.model_validate(value)
        for call, value in (job.decisions or {}).items()
    }
    decider = _as_listed(agent, job.decider)
    owner = _as_listed(agent, job.principal)
    return await agent.aresume(
        job.thread, decisions or None, principal=owner, decider=decider, watchers=watchers
    )


def _as_listed(agent: Agent, recorded: str | None) -> Principal | None:
    """A principal a job recorded, as the policy describes them now (None: none recorded).

    A job may wait in the queue while a scope is revoked or a tenant changes: it runs, and
    its decisions are signed, with what the policy grants when a worker takes it.
    """
    if not recorded:
        return None
    return agent.policy.as_listed(Principal.model_validate_json(recorded))


async def _go_on(
    agent: Agent, queue: RunQueue, job: RunJob, watch: RunLog, indexed_run: str
) -> RunResult:
    """Resume a run its worker left, unless the run had reached its end in the checkpoints.

    A worker killed after the run's last checkpoint, before the run index heard, leaves the
    index saying "running" over a finished run: there is nothing to resume, only the end
    to record.
    """
    view = await agent.athread(job.thread)
    if not view.unfinished and view.stop_reason is not None:
        await asyncio.to_thread(agent.storage.runs().end, job.thread, indexed_run, [])
        return await ended(agent, queue, job, watch)
    return await agent.aresume(job.thread, watchers=[watch.watch])


async def ended(agent: Agent, queue: RunQueue, job: RunJob, watch: RunLog) -> RunResult:
    """The result of a run that ended on a worker killed before it recorded it.

    That worker may also have died before its last events were written: the run's stream
    then gets its end (run_finished) from the checkpoints, so no follower waits for it.
    """
    from podium.tracing.events import RunFinished

    result = await stored_result(agent, job.thread)
    if not await asyncio.to_thread(queue.has_finished_event, job.run_id):
        watch.watch(
            RunFinished(
                trace_id=result.trace_id,
                stop_reason=result.stop_reason,
                steps=result.usage.steps,
                answer=result.answer,
                model=result.model,
            )
        )
    return result


async def stored_result(agent: Agent, thread: str) -> RunResult:
    """The result of a thread's ended run, as its checkpoints hold it."""
    from podium.results import RunResult, RunUsage

    view = await agent.athread(thread)
    async with agent.storage.checkpointer() as saver:
        found = await saver.aget_tuple({"configurable": {"thread_id": thread}})
    values = found.checkpoint["channel_values"] if found else {}
    return RunResult(
        answer=str(values.get("answer") or ""),
        stop_reason=str(view.stop_reason or ("awaiting_approval" if view.waiting else "error")),
        tool_calls=list(values.get("outcomes") or []),
        usage=RunUsage(
            input_tokens=0, output_tokens=0, cost_usd=0.0, model_calls=0, steps=0, latency_ms=0.0
        ),
        trace_id=str(values.get("run_id") or ""),
        thread_id=thread,
        model=agent.model_name,
        events=[],
        pending_approvals=view.waiting,
    )


def result_json(result: RunResult) -> dict[str, Any]:
    """A RunResult as the queue records it (without its events: they are recorded apart)."""
    return {"result": json.loads(result.model_dump_json(exclude={"events"}))}


def error_json(error: PodiumError) -> dict[str, Any]:
    """A run's error as the queue records it."""
    return {"error": error.problem, "fix": error.fix}


def record(queue: RunQueue, job: RunJob, outcome: dict[str, Any]) -> None:
    """Record the run's outcome (blocking)."""
    with queue.storage.connection() as db:
        record_result(db, job.run_id, job.thread, outcome)


def retryable(error: BaseException) -> bool:
    """Whether the job should go back to the queue (the database or the thread was away)."""
    return isinstance(error, StorageUnavailable | LeaseBusy)
