"""`podium worker`: take runs from the Postgres job queue and carry them out, many at once.

Built on procrastinate: its worker fetches jobs (LISTEN/NOTIFY, and a poll each second),
beats its heartbeat every ``heartbeat`` seconds, and runs the schedules of a triggers file as
periodic tasks (a slot is deferred once across every worker: the database refuses a second
job for the same slot). Beside it this worker runs:

- a reaper: a job whose worker has sent no heartbeat for ``stalled_after`` seconds (it was
  killed) goes back to the queue, and another worker resumes its run from its last
  checkpoint. A run is taken over within about ``stalled_after + 1`` seconds plus the time to
  pick it up (BENCHMARKS.md measures it);
- a listener for stop requests (double-texting's interrupt and rollback).

Given a durable event bus (``bus``), it also delivers the bus's events: the jobs of the
task ``podium.bus`` on the queue ``events`` (server/bus_jobs.py), retried on another worker
like runs when their worker is killed.

SIGTERM (or SIGINT) stops taking jobs and lets the runs in hand finish for ``grace``
seconds; those still going then are cancelled, keeping what they did, and go back to the
queue for another worker to resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from podium.errors import ConfigError, NoJobQueue, PodiumError
from podium.runner import CANCEL_REASON
from podium.server.jobs import (
    RunLog,
    error_json,
    lease,
    perform,
    record,
    result_json,
    retryable,
)
from podium.server.queue import (
    RUN_QUEUE,
    RUN_TASK,
    SCHEDULE_TASK,
    STOP_CHANNEL,
    RunJob,
    RunQueue,
    queue_app,
    thread_lock,
)
from podium.storage.postgres import PostgresStorage

if TYPE_CHECKING:
    import procrastinate

    from podium.agent import Agent
    from podium.patterns.bus import EventBus
    from podium.server.triggers import Triggers

log = logging.getLogger(__name__)


class UnreadableJob(Exception):
    """A job whose payload no longer parses: moved aside, never retried."""


def queue_storage(agent: Agent) -> PostgresStorage:
    """The agent's Postgres backend; a worker on SQLite is refused with the reason."""
    storage = agent.storage
    if not isinstance(storage, PostgresStorage):
        raise NoJobQueue()
    return storage


class Worker:
    """A worker process's loop: procrastinate's worker, the reaper, the stop listener."""

    def __init__(
        self,
        agent: Agent,
        concurrency: int = 8,
        triggers: Triggers | None = None,
        heartbeat: float = 1.0,
        stalled_after: float = 5.0,
        grace: float = 30.0,
        name: str | None = None,
        bus: EventBus | None = None,
    ) -> None:
        self.agent = agent
        self.storage = queue_storage(agent)
        self.bus = _durable(bus, self.storage.url)
        self.queue = RunQueue(self.storage)
        self.concurrency, self.triggers = concurrency, triggers
        self.heartbeat, self.stalled_after, self.grace = heartbeat, stalled_after, grace
        self.name = name or "podium-worker"
        self.running: dict[str, tuple[asyncio.Task[Any], list[str]]] = {}
        self.app = self._app()
        self._signalled = False
        self._current: Any = None

    def _app(self) -> procrastinate.App:
        from procrastinate import BaseRetryStrategy, RetryDecision

        class Retry(BaseRetryStrategy):
            """Back to the queue when the database or the thread was away, or at shutdown."""

            def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
                if retryable(exception) or isinstance(exception, asyncio.CancelledError):
                    return RetryDecision(retry_in={"seconds": min(1 + job.attempts, 10)})
                return None

        app = queue_app(self.storage.url)
        app.task(name=RUN_TASK, queue=RUN_QUEUE, pass_context=True, retry=Retry())(self._run)
        if self.bus is not None:
            from podium.patterns.bus_store import BUS_QUEUE, BUS_TASK

            app.task(name=BUS_TASK, queue=BUS_QUEUE, pass_context=True, retry=Retry())(
                self._deliver
            )
        if self.triggers is not None:
            schedule = app.task(name=SCHEDULE_TASK, queue=RUN_QUEUE, pass_context=True)(
                self._scheduled
            )
            for item in self.triggers.schedules:
                lock = thread_lock(self.triggers.schedule_thread(item)) if item.thread else None
                app.periodic_registry.register_task(
                    task=schedule,
                    cron=item.cron,
                    periodic_id=item.name,
                    configure_kwargs={"task_kwargs": {"name": item.name}, "lock": lock},
                )
        return app

    async def _run(self, context: Any, /, payload: Any = None, **unknown: Any) -> None:
        """The task ``podium.run``: one queued run."""
        try:
            job = RunJob.model_validate(payload)
            if unknown:
                raise ValueError(f"unexpected fields {sorted(unknown)}")
        except (ValidationError, ValueError) as error:
            await asyncio.to_thread(self._move_aside, context.job, payload, unknown, error)
            raise UnreadableJob(str(error)) from None
        async with lease(self.storage, job.thread):
            await self._carry_out(job)

    async def _deliver(
        self, context: Any, /, event: Any = None, subscriber: Any = None, **unknown: Any
    ) -> None:
        """The task ``podium.bus``: one subscriber's delivery of one event."""
        from podium.server.bus_jobs import deliver

        assert self.bus is not None
        if not isinstance(event, str) or not isinstance(subscriber, str) or unknown:
            error = ValueError("a bus job needs the text fields event and subscriber only")
            payload = {"event": event, "subscriber": subscriber}
            await asyncio.to_thread(self._move_aside, context.job, payload, unknown, error)
            raise UnreadableJob(str(error))
        try:
            await deliver(self.bus, event, subscriber)
        except (LookupError, ConfigError) as error:  # no such event, or no such subscriber
            payload = {"event": event, "subscriber": subscriber}
            why = "the event cannot be delivered"
            await asyncio.to_thread(self._move_aside, context.job, payload, {}, error, why)
            raise UnreadableJob(str(error)) from None

    async def _carry_out(self, job: RunJob) -> None:
        ended, stop = await asyncio.to_thread(self._standing, job.run_id)
        if ended:
            return  # a worker finished it, and died before the queue heard
        if stop is not None:
            await self._stopped(job, stop)
            return
        watch = RunLog(self.storage, job.run_id)
        reason: list[str] = ["keep"]  # a cancelled run keeps its progress, to be resumed
        task = asyncio.create_task(self._perform(job, watch, reason))
        self.running[job.run_id] = (task, reason)
        try:
            outcome = await task
        except asyncio.CancelledError:
            if reason[-1] not in ("interrupt", "rollback"):
                raise  # shutdown: back to the queue, to be resumed elsewhere
            await watch.close()
            await self._stopped(job, reason[-1])
            return
        finally:
            self.running.pop(job.run_id, None)
        await watch.close()
        await asyncio.to_thread(record, self.queue, job, outcome)

    async def _perform(self, job: RunJob, watch: RunLog, reason: list[str]) -> dict[str, Any]:
        CANCEL_REASON.set(reason)
        try:
            return result_json(await perform(self.agent, self.queue, job, watch))
        except PodiumError as error:
            if retryable(error):
                raise
            return error_json(error)

    async def _stopped(self, job: RunJob, mode: str) -> None:
        from podium.threads import end_interrupted, roll_back

        if mode == "rollback":
            remaining = await roll_back(self.agent, job.thread, job.run_id)
        else:
            await end_interrupted(self.agent, job.thread, job.run_id)
            remaining = []
        what = "interrupted" if mode == "interrupt" else "rolled back"
        outcome = {
            "error": f"run {job.run_id} was {what} by a newer request on its thread",
            "fix": "",
            "stop_reason": "interrupted" if mode == "interrupt" else "rolled_back",
            "remaining": remaining,
        }
        await asyncio.to_thread(record, self.queue, job, outcome)

    def _standing(self, run_id: str) -> tuple[bool, str | None]:
        """Whether the run has its result, and the stop asked of it (one round trip)."""
        with self.storage.connection() as db:
            row = db.execute(
                "SELECT EXISTS (SELECT 1 FROM podium_run_results WHERE run = %s), "
                "(SELECT mode FROM podium_run_stops WHERE run = %s)",
                (run_id, run_id),
            ).fetchone()
        assert row is not None
        return bool(row[0]), None if row[1] is None else str(row[1])

    def _stop_of(self, run_id: str) -> str | None:
        with self.storage.connection() as db:
            row = db.execute("SELECT mode FROM podium_run_stops WHERE run = %s", (run_id,))
            found = row.fetchone()
        return None if found is None else str(found[0])

    def _move_aside(
        self,
        job: Any,
        payload: Any,
        unknown: dict[str, Any],
        error: Exception,
        why: str = "the payload does not parse",
    ) -> None:
        import json
        import time

        reason = f"{why}: {error}".replace("\n", " ")[:2000]
        log.error("job %s moved aside: %s", job.id, reason)
        data = {"payload": payload, **unknown}
        with self.storage.connection() as db:
            db.execute(
                "INSERT INTO podium_dead_jobs (job_id, task, payload, reason, at) "
                "VALUES (%s, %s, %s::jsonb, %s, %s)",
                (job.id, job.task_name, json.dumps(data, default=str), reason, time.time()),
            )
        run_id = payload.get("run_id") if isinstance(payload, dict) else None
        if isinstance(run_id, str):  # whoever waits for it hears why it will not run
            fix = "see podium_dead_jobs; send the request again"
            with self.storage.connection() as db:
                from podium.server.queue import record_result

                record_result(db, run_id, "", {"error": f"run {run_id}: {reason}", "fix": fix})

    async def _scheduled(self, context: Any, /, timestamp: int, name: str) -> None:
        """The periodic task of one schedule: its run for the slot ``timestamp``, once."""
        assert self.triggers is not None
        await self.triggers.fire_schedule(name, timestamp, self.queue)

    async def _reap(self) -> None:
        """Put back in the queue the jobs of workers whose heartbeat stopped."""
        manager = self.app.job_manager
        beats = 0
        while True:
            await asyncio.sleep(1.0)
            beats += 1
            try:
                stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after)
                for job in stalled:
                    with contextlib.suppress(Exception):  # another reaper was first
                        await manager.retry_job(job)
                        log.warning("job %s of a stalled worker is back in the queue", job.id)
                if beats % 10 == 0:  # the rows of dead workers can wait; their jobs cannot
                    await manager.prune_stalled_workers(self.stalled_after * 4)
            except Exception as error:  # the database is away: try again next second
                log.warning("reaper: %s", error)

    async def _listen_for_stops(self) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.storage.url, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {STOP_CHANNEL}")
                    async for notice in connection.notifies():
                        self._stop(notice.payload)
            except psycopg.OperationalError as error:
                log.warning("stop listener: %s", error)
                await asyncio.sleep(1.0)

    def _stop(self, run_id: str) -> None:
        found = self.running.get(run_id)
        if found is None:
            return
        task, reason = found

        async def cancel() -> None:
            mode = await asyncio.to_thread(self._stop_of, run_id)
            if mode is not None and not task.done():
                reason.append(mode)
                task.cancel()

        asyncio.get_running_loop().create_task(cancel())

    async def run(self) -> None:
        """Work until SIGTERM or SIGINT; a database that goes away is waited for."""
        await asyncio.to_thread(self._warn_of_durability_gaps)
        async with self.storage.hold():
            side = [
                asyncio.create_task(self._reap()),
                asyncio.create_task(self._listen_for_stops()),
            ]
            try:
                await self._work()
            finally:
                for task in side:
                    task.cancel()
                await asyncio.gather(*side, return_exceptions=True)

    def _warn_of_durability_gaps(self) -> None:
        try:
            gaps = self.storage.durability_gaps()
        except PodiumError:  # not reachable yet: the loop waits for it
            return
        for gap in gaps:
            log.warning("the database's %s", gap)

    async def _work(self) -> None:
        import signal

        from procrastinate.worker import Worker as QueueWorker

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop)
        while not self._signalled:
            try:
                async with self.app.open_async():
                    self._current = QueueWorker(
                        self.app,
                        queues=self.queues(),
                        concurrency=self.concurrency,
                        name=self.name,
                        fetch_job_polling_interval=1.0,
                        # stops come by LISTEN (podium_stop), not procrastinate's aborts:
                        # its poll for them is only a fallback
                        abort_job_polling_interval=10.0,
                        update_heartbeat_interval=self.heartbeat,
                        stalled_worker_timeout=self.stalled_after,
                        shutdown_graceful_timeout=self.grace,
                        install_signal_handlers=False,
                    )
                    await self._current.run()
            except Exception as error:  # the database went away under the worker
                log.warning("worker: %s; starting again in 1 s", error)
            if not self._signalled:
                await asyncio.sleep(1.0)

    def queues(self) -> list[str]:
        """The queues this worker takes jobs from."""
        from podium.patterns.bus_store import BUS_QUEUE

        return [RUN_QUEUE] if self.bus is None else [RUN_QUEUE, BUS_QUEUE]

    def stop(self) -> None:
        """Stop taking jobs; the runs in hand get ``grace`` seconds, then go back to the queue."""
        self._signalled = True
        if self._current is not None:
            self._current.stop()


def _durable(bus: EventBus | None, url: str) -> EventBus | None:
    """The bus a worker delivers for: durable, in its database, subscribers on Postgres."""
    if bus is None:
        return None
    if bus.storage is None:
        raise ConfigError(
            "a worker delivers the events of a durable bus, and this bus is in-process",
            "create it with EventBus(policy, durable=True) (in the database of "
            "PODIUM_DATABASE_URL, which --database-url sets) or EventBus(policy, database_url=...)",
        )
    if bus.storage.url != url:  # its jobs would wait where this worker never looks
        raise ConfigError(
            "the bus keeps its events in another database than the worker's job queue",
            "give the bus and the worker's agent the same database URL",
        )
    for subscription in bus.subscriptions:
        queue_storage(subscription.agent)  # a subscriber on SQLite is refused with the reason
    bus.check()
    return bus
