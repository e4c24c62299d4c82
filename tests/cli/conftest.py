"""The resident process's fixture: its sockets in a folder of the test's own, stopped after."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.resident_env import Resident, alive


@pytest.fixture
def resident_on(tmp_path: Path) -> Iterator[Resident]:
    # A short folder: a Unix socket's path has at most 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="podium-r-"))
    folder.chmod(0o700)
    on = Resident(folder, tmp_path / "home")
    yield on
    found = on.status()
    on.podium("resident", "stop")
    server = found.get("server")
    deadline = time.monotonic() + 10
    while isinstance(server, int) and alive(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    if isinstance(server, int) and alive(server):
        os.kill(server, signal.SIGKILL)
        pytest.fail("the resident process did not stop when asked")
