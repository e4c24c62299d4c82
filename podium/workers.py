"""Pools of daemon threads for guard checks and sync tools: one that hangs holds nothing.

concurrent.futures' pool joins its threads at exit: a check or a tool stuck in a loop would
keep `podium run` from ever returning. These workers are daemons, and a new one starts
whenever none is idle, up to a bound, so a hung call only takes its own thread; the others
are reused (starting a thread for every tool call cost about a millisecond a step).
"""

from __future__ import annotations

import os
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
MAX_WORKERS = 32


class DaemonPool:
    """Runs callables on daemon threads and hands back futures."""

    def __init__(self, max_workers: int = MAX_WORKERS, name: str = "podium-worker") -> None:
        self.max_workers = max_workers
        self.name = name
        self._start_afresh()
        _POOLS.add(self)

    def _start_afresh(self) -> None:
        # Also the state of a forked child: the parent's worker threads do not exist there,
        # so counting them as idle would queue every call for a worker that never comes.
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._idle = 0

    def submit(self, function: Callable[[], T]) -> Future[T]:
        """Run ``function`` on a worker; its future holds the result or the exception."""
        future: Future[T] = Future()
        with self._lock:
            if self._idle <= 0 and self._workers < self.max_workers:
                self._workers += 1
                self._idle += 1
                threading.Thread(target=self._work, name=self.name, daemon=True).start()
            self._idle -= 1
        self._tasks.put((future, function))
        return future

    def _work(self) -> None:
        while True:
            future, function = self._tasks.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function())
                except BaseException as error:  # handed to whoever waits on the future
                    future.set_exception(error)
            with self._lock:
                self._idle += 1


_POOLS: weakref.WeakSet[DaemonPool] = weakref.WeakSet()


def _afresh_in_child() -> None:
    for pool in list(_POOLS):
        pool._start_afresh()


os.register_at_fork(after_in_child=_afresh_in_child)

POOL = DaemonPool(name="podium-check")  # guard checks
# Sync tools: a tool that hangs past its timeout is abandoned with its thread, so the bound
# is generous; beyond it, calls wait for a free worker.
TOOL_POOL = DaemonPool(max_workers=256, name="podium-tool")
