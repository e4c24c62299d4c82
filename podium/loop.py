"""The one event loop podium's blocking API runs on, for the life of the process.

``Agent.invoke``, ``resume`` and ``stream`` (and the patterns' blocking calls) hand their
coroutine to this loop, on a daemon thread of its own, and wait for it. A fresh loop per
call would break every client that keeps a connection pool bound to the loop it was made
on (langchain-openai's async HTTP client among them): the second run's first model call
would fail with "Event loop is closed". Ctrl-C while waiting cancels the run in progress
and returns at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from podium.errors import InvalidRequest

T = TypeVar("T")
_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _forgotten_in_child() -> None:
    # A forked child has the parent's loop object but not its thread: start its own.
    global _loop
    _loop = None


os.register_at_fork(after_in_child=_forgotten_in_child)


def background_loop() -> asyncio.AbstractEventLoop:
    """The long-lived loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="podium-loop", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def submit(coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Start ``coroutine`` on the long-lived loop; its future."""
    loop = background_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coroutine.close()
        raise InvalidRequest(
            "a blocking podium call (invoke, resume, stream) was made from async code "
            "running on podium's own loop: it would wait for itself",
            "await the async form instead (ainvoke, aresume, astream)",
        )
    return asyncio.run_coroutine_threadsafe(coroutine, loop)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from blocking code (also from inside another event loop)."""
    future = submit(coroutine)
    try:
        return future.result()
    except KeyboardInterrupt:
        future.cancel()  # the run is cancelled (and compensated) on the loop
        raise


def wind_down(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the tasks on podium's loop to end; whether they did.

    After Ctrl-C cancelled a run, its task still unwinds on the loop (compensation, the
    checkpoint store): a command that exits waits this long for it, not longer.
    """
    loop = _loop
    if loop is None or loop.is_closed():
        return True

    async def idle() -> None:
        current = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not current]
        if others:
            await asyncio.wait(others)

    future = asyncio.run_coroutine_threadsafe(idle(), loop)
    try:
        future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        return False
    return True
