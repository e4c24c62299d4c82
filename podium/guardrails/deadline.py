"""The screen's timeout inside podium's own checks: past it, a check stops and frees its thread.

A screen waits for its checks up to its timeout, then decides without those that have not
answered (failed closed, or open as configured). Python cannot stop a thread, so such a
check used to run on to its end, holding a worker of the check pool: a few hostile texts
that are slow to read (a megabyte of spaced-out letters took 8 s) could hold the pool for
everyone else's screens. podium's own checks on the pool now look, between the pieces of
their work (one rule's pass over one reading of a text, one window of values read together,
one batch of segments for the learned detector, one parse), at whether their screen has
decided without them, and then stop with ``CheckTimedOut``. They stop only once it has
decided: a check that swallowed the error and answered "pass" would come too late to count.
A validator written by a user is not stopped: it runs on, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_STOP: ContextVar[threading.Event | None] = ContextVar("podium_check_stop", default=None)


class CheckTimedOut(Exception):  # (not a TimeoutError: that is an OSError, caught as one)
    """A check stopped: its screen had decided without it."""


@contextmanager
def until(stop: threading.Event | None) -> Iterator[None]:
    """Checks run in the block stop once ``stop`` is set."""
    token = _STOP.set(stop)
    try:
        yield
    finally:
        _STOP.reset(token)


def after(seconds: float) -> threading.Event:
    """An event set ``seconds`` from now (a time bound for checks run outside a screen)."""
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()
    return stop


def check() -> None:
    """Raise CheckTimedOut when the screen of the check running here has decided without it."""
    stop = _STOP.get()
    if stop is not None and stop.is_set():
        raise CheckTimedOut("the check ran past its screen's timeout and was stopped")
