"""The screen's timeout inside podium's own checks: past it, a check stops and frees its thread.

A screen waits for its checks up to its timeout, then decides without those that have not
answered (failed closed, or open as configured). Python cannot stop a thread, so such a
check used to run on to its end, holding a worker of the check pool: a few hostile texts
that are slow to read (a megabyte of spaced-out letters took 8 s) could hold the pool for
everyone else's screens. podium's own checks now look at the screen's deadline between the
pieces of their work (one reading of a text by the rules, one window of values read
together, one batch of segments for the learned detector; each a few tens of milliseconds
at most) and stop with ``CheckTimedOut`` once it has passed. A validator written by a user
is not stopped: it runs on, as before.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_DEADLINE: ContextVar[float | None] = ContextVar("podium_check_deadline", default=None)


class CheckTimedOut(Exception):  # (not a TimeoutError: that is an OSError, caught as one)
    """A check stopped at its screen's deadline: the screen decided without it."""


@contextmanager
def until(deadline: float | None) -> Iterator[None]:
    """Checks run in the block stop once ``time.monotonic()`` passes ``deadline``."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check() -> None:
    """Raise CheckTimedOut when the deadline of the check running here has passed."""
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise CheckTimedOut("the check ran past its screen's timeout and was stopped")
