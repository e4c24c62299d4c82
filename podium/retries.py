"""The one retry policy of podium: exponential backoff with jitter, within a deadline."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.retry import retry_base

# tenacity 9.2 names the first wait "multiplier" (and deprecates "initial", all 9.1 knows).
_FIRST_WAIT = (
    "multiplier"
    if "multiplier" in inspect.signature(wait_exponential_jitter.__init__).parameters
    else "initial"
)


def backoff(
    attempts: int,
    deadline: float,
    base_wait: float,
    max_wait: float,
    retry: retry_base,
    announce: Callable[[int, BaseException | None, float], None],
) -> AsyncRetrying:
    """Up to ``attempts`` tries while ``retry`` says so and ``deadline`` (monotonic) allows.

    Waits grow as base_wait x 1, 2, 4..., each plus a jitter of up to base_wait (tenacity's
    default jitter would add up to a whole second), capped at max_wait. Before each wait,
    ``announce(attempt, error, wait_seconds)`` traces the retry.
    """

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        announce(state.attempt_number, error, round(state.upcoming_sleep, 3))

    return AsyncRetrying(
        stop=stop_after_attempt(attempts) | stop_after_delay(max(deadline - time.monotonic(), 0)),
        wait=wait_exponential_jitter(**{_FIRST_WAIT: base_wait}, jitter=base_wait, max=max_wait),
        retry=retry,
        before_sleep=before_sleep,
        reraise=True,
    )
