"""Following a queued run from `podium serve`, whichever worker carries it out.

Workers write each run's events and its result to the database and announce them with
``NOTIFY podium_runs, '<run id>'``; the server LISTENs on one connection and wakes those who
follow that run, who then read what is new. The rows are the truth, the notifications only
a wake-up: a follower also looks every second, so a notification lost (the database
restarted) delays it by a second at most, and one who comes back later (a client that
disconnected) reads everything from where it left off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from podium.server.queue import FEED_CHANNEL

if TYPE_CHECKING:
    from podium.server.queue import RunQueue

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


class RunFeed:
    """One LISTEN connection for the whole server; wakes the followers of each run."""

    def __init__(self, queue: RunQueue) -> None:
        self.queue = queue
        self._followers: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Listen in the background until ``stop``."""
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.queue.storage.url, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {FEED_CHANNEL}")
                    async for notice in connection.notifies():
                        for wake in self._followers.get(notice.payload, ()):
                            wake.set()
            except psycopg.OperationalError as error:
                log.warning("run feed: %s; listening again in 1 s", error)
                await asyncio.sleep(1.0)

    async def follow(self, run_id: str, after: int = 0) -> AsyncIterator[tuple[int, Any]]:
        """Yield (seq, event) of the run after ``after``, then (-1, its result), live."""
        wake = asyncio.Event()
        self._followers[run_id].add(wake)
        try:
            while True:
                wake.clear()
                for seq, event in await asyncio.to_thread(self.queue.events_after, run_id, after):
                    after = seq
                    yield seq, event
                result = await asyncio.to_thread(self.queue.result, run_id)
                if result is not None:  # the events written before it are all there now
                    for seq, event in await asyncio.to_thread(
                        self.queue.events_after, run_id, after, 100_000
                    ):
                        yield seq, event
                    yield -1, result
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)
        finally:
            self._followers[run_id].discard(wake)
            if not self._followers[run_id]:
                del self._followers[run_id]

    async def result(self, run_id: str) -> dict[str, Any]:
        """Wait for the run's result."""
        async for seq, item in self.follow(run_id, after=2**62):  # no events: the result only
            if seq == -1:
                return dict(item)
        raise AssertionError("a followed run always ends with its result")
