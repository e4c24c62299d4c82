"""The job queue of runs in Postgres (procrastinate): what `podium serve` puts in it.

Each run is a job of the task ``podium.run`` on the queue ``runs``, locked by its thread:
procrastinate hands a locked job to one worker at a time and, among jobs of one lock, the
oldest first, so a thread's runs happen one at a time and in the order they came, whichever
worker takes them. What a run shows as it goes and its result are written to the database
by the worker (podium_run_events, podium_run_results) and announced with NOTIFY, so a
server follows it live (server/feed.py).

A request for a busy thread (a run of it queued or running) follows the caller's
``multitask_strategy``, named and meant as in LangGraph's Agent Server: ``reject`` refuses
it (409), ``enqueue`` (the default) queues it after the others, ``interrupt`` stops the
thread's runs and keeps what they did, ``rollback`` stops them and undoes what they did
(their side effects compensated, the thread back to where it was before them); then the
new run starts.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from podium.errors import Conflict, InvalidRequest

if TYPE_CHECKING:
    import procrastinate
    import psycopg

    from podium.storage.postgres import PostgresStorage

RUN_TASK = "podium.run"
SCHEDULE_TASK = "podium.schedule"
RUN_QUEUE = "runs"
FEED_CHANNEL = "podium_runs"  # NOTIFY <run id>: the run showed more, or ended
STOP_CHANNEL = "podium_stop"  # NOTIFY <run id>: stop it (interrupt or rollback)
Strategy = Literal["reject", "enqueue", "interrupt", "rollback"]
STRATEGIES: tuple[Strategy, ...] = ("reject", "enqueue", "interrupt", "rollback")


class RunJob(BaseModel):
    """A run as the queue carries it: everything a worker needs to start or resume it."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    thread: str
    kind: Literal["invoke", "resume"] = "invoke"
    request: str = ""
    principal: str | None = None  # the Principal as JSON (a resume: None keeps the run's)
    decisions: dict[str, Any] | None = None  # call id -> approve (bool or Approval as JSON)
    decider: str | None = None  # the Principal who decided, as JSON
    enqueued: float = 0.0


def thread_lock(thread: str) -> str:
    """The queue lock of a thread's runs."""
    return f"thread:{thread}"


def new_run_id() -> str:
    """A new run id (it is also the trace id of the run's first attempt)."""
    return uuid.uuid4().hex


def queue_app(url: str) -> procrastinate.App:
    """A procrastinate app over the database at ``url``.

    A scheduled slot missed while no worker ran fires once when one starts again, if it is
    less than a day late (procrastinate's ``max_delay``; later slots wait for the next).
    """
    from procrastinate import App, PsycopgConnector

    connector = PsycopgConnector(
        conninfo=url, min_size=1, max_size=6, kwargs={"connect_timeout": 10}
    )
    return App(connector=connector, periodic_defaults={"max_delay": 86_400})


class RunQueue:
    """Puts runs in the queue (deciding double-texting), stops them, reads their outcome."""

    def __init__(self, storage: PostgresStorage) -> None:
        self.storage = storage

    def submit(self, job: RunJob, strategy: Strategy = "enqueue") -> int:
        """Queue ``job`` after the thread's other runs, as ``strategy`` says; its job id.

        The decision and the insert are one transaction under an advisory lock of the
        thread, so two servers deciding for one thread at once decide one after the other.
        """
        if strategy not in STRATEGIES:
            raise InvalidRequest(
                f"multitask_strategy {strategy!r} is not one of {', '.join(STRATEGIES)}",
                "send reject, enqueue (the default), interrupt or rollback",
            )
        lock = thread_lock(job.thread)
        job.enqueued = job.enqueued or time.time()
        with self.storage.connection() as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock,))
            active = db.execute(
                "SELECT id, status::text, args->'payload'->>'run_id' FROM procrastinate_jobs "
                "WHERE lock = %s AND status IN ('todo', 'doing') ORDER BY id",
                (lock,),
            ).fetchall()
            if active and strategy == "reject":
                raise Conflict(
                    f"thread {job.thread.partition(':')[2] or job.thread} is busy: run "
                    f"{active[0][2]} is {'running' if active[0][1] == 'doing' else 'queued'}",
                    "wait for it to end, or send multitask_strategy enqueue, interrupt or rollback",
                )
            if active and strategy in ("interrupt", "rollback"):
                _stop_all(db, active, strategy)
            row = db.execute(
                "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, %s, NULL, "
                "%s::jsonb, NULL)::procrastinate_job_to_defer_v1]))",
                (RUN_QUEUE, RUN_TASK, lock, json.dumps({"payload": job.model_dump(mode="json")})),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def busy(self, thread: str) -> bool:
        """Whether a run of ``thread`` is queued or running."""
        with self.storage.connection() as db:
            row = db.execute(
                "SELECT 1 FROM procrastinate_jobs WHERE lock = %s AND status IN ('todo', 'doing') "
                "LIMIT 1",
                (thread_lock(thread),),
            ).fetchone()
        return row is not None

    def result(self, run_id: str) -> dict[str, Any] | None:
        """The run's result (a RunResult as JSON, or an error), once it ended."""
        with self.storage.connection() as db:
            row = db.execute(
                "SELECT result FROM podium_run_results WHERE run = %s", (run_id,)
            ).fetchone()
        return None if row is None else dict(row[0])

    def events_after(self, run_id: str, seq: int, limit: int = 500) -> list[tuple[int, Any]]:
        """What the run showed after ``seq``, in order: (seq, event as JSON)."""
        with self.storage.connection() as db:
            rows = db.execute(
                "SELECT seq, event FROM podium_run_events WHERE run = %s AND seq > %s "
                "ORDER BY seq LIMIT %s",
                (run_id, seq, limit),
            ).fetchall()
        return [(int(s), e) for s, e in rows]

    def has_finished_event(self, run_id: str) -> bool:
        """Whether the run's events already hold its end (run_finished)."""
        with self.storage.connection() as db:
            row = db.execute(
                "SELECT 1 FROM podium_run_events WHERE run = %s "
                "AND event->>'kind' = 'run_finished' LIMIT 1",
                (run_id,),
            ).fetchone()
        return row is not None

    def thread_of(self, run_id: str) -> str | None:
        """The thread a queued, running or ended run belongs to."""
        with self.storage.connection() as db:
            row = db.execute(
                "SELECT args->'payload'->>'thread' FROM procrastinate_jobs "
                "WHERE task_name = %s AND args->'payload'->>'run_id' = %s LIMIT 1",
                (RUN_TASK, run_id),
            ).fetchone()
        return None if row is None else str(row[0])


def _stop_all(db: psycopg.Connection[Any], active: list[tuple[Any, ...]], mode: str) -> None:
    """Stop the thread's runs: queued ones never start, a running one is told to stop."""
    for job_id, status, run_id in active:
        if status == "todo":
            db.execute("SELECT procrastinate_cancel_job_v1(%s, false, false)", (job_id,))
            record_result(db, run_id, "", _stopped(run_id, mode, started=False))
        else:
            db.execute(
                "INSERT INTO podium_run_stops VALUES (%s, %s, %s) ON CONFLICT (run) DO NOTHING",
                (run_id, mode, time.time()),
            )
            db.execute("SELECT pg_notify(%s, %s)", (STOP_CHANNEL, run_id))


def _stopped(run_id: str, mode: str, started: bool) -> dict[str, Any]:
    what = "interrupted" if mode == "interrupt" else "rolled back"
    when = "while it ran" if started else "before it started"
    return {
        "error": f"run {run_id} was {what} {when} by a newer request on its thread",
        "fix": "",
        "stop_reason": "interrupted" if mode == "interrupt" else "rolled_back",
    }


def record_result(
    db: psycopg.Connection[Any], run_id: str, thread: str, result: dict[str, Any]
) -> None:
    """Keep the run's outcome (the first one recorded stays) and tell those who follow it."""
    db.execute(
        "INSERT INTO podium_run_results VALUES (%s, %s, %s::jsonb, %s) "
        "ON CONFLICT (run) DO NOTHING",
        (run_id, thread, json.dumps(result), time.time()),
    )
    db.execute("SELECT pg_notify(%s, %s)", (FEED_CHANNEL, run_id))
