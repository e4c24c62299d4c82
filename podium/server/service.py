"""What the routes share: the service (agent, gate, triggers, runs in progress), the caller."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Request

from podium.identity import Principal
from podium.server.auth import Gate

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from podium.agent import Agent
    from podium.results import RunResult
    from podium.server.feed import RunFeed
    from podium.server.queue import RunQueue
    from podium.server.triggers import Triggers
    from podium.tracing.events import Sink

DONE = object()  # the last item of a launched run's queue


class ThreadLocks:
    """One run at a time per thread; a lock lives as long as someone holds or awaits it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, thread: str) -> asyncio.Lock:
        """The lock of ``thread``."""
        lock = self._locks.get(thread)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[thread] = lock
        return lock


@dataclass
class Service:
    """What the routes share: the agent, its triggers, the gate, the runs in progress."""

    agent: Agent
    gate: Gate
    triggers: Triggers | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    locks: ThreadLocks = field(default_factory=ThreadLocks)  # one run at a time per thread
    # With a database: runs go to the job queue (workers carry them out) and are followed
    # through the feed; without one they run here, in this process.
    queue: RunQueue | None = None
    feed: RunFeed | None = None

    def keep(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """Hold a background run until it ends (a client leaving does not stop it)."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def launch(
        self, thread: str, start: Callable[[Sink], Coroutine[Any, Any, RunResult]]
    ) -> asyncio.Queue[Any]:
        """Run ``start(watcher)`` under the thread's lock, to its end whoever listens.

        The queue gets the run's events as they come, then its RunResult (or the
        PodiumError that ended it), then ``DONE``.
        """
        from podium.errors import PodiumError
        from podium.streaming import watched

        items: asyncio.Queue[Any] = asyncio.Queue()

        async def produce() -> None:
            async with self.locks(thread):
                try:
                    async for item in watched(start):
                        items.put_nowait(item)
                except PodiumError as error:
                    items.put_nowait(error)
                finally:
                    items.put_nowait(DONE)

        self.keep(asyncio.create_task(produce()))
        return items


def _caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    service: Service = request.app.state.service
    return service.gate.caller(authorization)


# Route parameters of this type get the calling principal (FastAPI resolves the annotation
# by name, so it lives at module level).
Caller = Annotated[Principal, Depends(_caller)]


def error_body(problem: str, fix: str) -> dict[str, str]:
    """The one shape of every error the service sends."""
    return {"error": problem, "fix": fix}
