"""A run's events as they happen: a run started with a watcher, read as an async stream."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podium.results import RunResult
    from podium.tracing.events import Event, Sink


async def watched(
    start: Callable[[Sink], Coroutine[Any, Any, RunResult]],
) -> AsyncIterator[Event | RunResult]:
    """Yield the events ``start(watcher)`` shows its watcher as they come, then its result.

    ``start`` begins a run (``Agent.ainvoke`` or ``aresume`` with ``watchers=[watcher]``);
    its error, if it raises one, is raised here after the events it showed.
    """
    events: asyncio.Queue[Event] = asyncio.Queue()
    task = asyncio.create_task(start(events.put_nowait))
    while not (task.done() and events.empty()):
        getter = asyncio.ensure_future(events.get())
        await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            yield getter.result()
        else:
            getter.cancel()
    yield task.result()


def blocked(items: AsyncIterator[Event | RunResult]) -> Iterator[Event | RunResult]:
    """``items``, read on podium's loop, yielded to blocking code as they come.

    Ctrl-C while waiting cancels the run behind them.
    """
    received: queue.Queue[Event | RunResult | BaseException] = queue.Queue()

    async def pump() -> None:
        try:
            async for item in items:
                received.put(item)
        except BaseException as error:
            received.put(error)
            raise

    from podium.loop import submit
    from podium.results import RunResult

    running = submit(pump())
    try:
        while True:
            item = received.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, RunResult):
                break
    except KeyboardInterrupt:
        running.cancel()
        raise
