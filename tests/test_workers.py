"""The daemon pools run calls in a forked child too (the parent's threads do not survive)."""

from __future__ import annotations

import os
import threading

from podium.workers import TOOL_POOL, DaemonPool
from tests.forking import forked


def _submit_in_child() -> None:
    os._exit(0 if TOOL_POOL.submit(lambda: 21 * 2).result(timeout=10) == 42 else 1)


def test_a_forked_child_gets_workers_of_its_own() -> None:
    assert TOOL_POOL.submit(lambda: 1).result(timeout=10) == 1  # the parent has an idle worker
    child = forked(_submit_in_child)
    child.join(30)
    assert child.exitcode == 0


def test_a_hung_call_takes_only_its_own_worker() -> None:
    pool = DaemonPool(max_workers=4, name="test-pool")
    release = threading.Event()
    pool.submit(release.wait)
    assert pool.submit(lambda: "free").result(timeout=10) == "free"
    release.set()
