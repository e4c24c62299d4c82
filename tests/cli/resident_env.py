"""Commands with the resident process on, in a folder of a test's own, and its control."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "podium"


class Resident:
    """The environment of commands with the resident process on, and its control."""

    def __init__(self, folder: Path, home: Path) -> None:
        self.folder = folder
        self.home = home
        self.homes = 0
        self.env = {
            **os.environ,
            "PODIUM_RESIDENT": "1",
            "PODIUM_RESIDENT_DIR": str(folder),
            "PODIUM_HOME": str(home),
        }

    def fresh_home(self) -> str:
        self.homes += 1
        return str(self.home.parent / f"home-{self.homes}")

    def podium(
        self, *arguments: str, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        assert SCRIPT.exists(), "the console script is installed by `make install`"
        return subprocess.run(
            [str(SCRIPT), *arguments],
            capture_output=True,
            text=True,
            input=stdin,
            cwd=ROOT,
            env={**self.env, **env},
            timeout=120,
        )

    def status(self) -> dict[str, object]:
        done = self.podium("resident", "status", "--json")
        assert done.returncode == 0, done.stderr
        found: dict[str, object] = json.loads(done.stdout)
        return found

    def up(self) -> dict[str, object]:
        """Start it (a run here starts it for the next command) and wait until it serves."""
        first = self.podium("run", "--no-memory", "what is 2 + 2", PODIUM_HOME=self.fresh_home())
        assert first.returncode == 0, first.stderr
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            found = self.status()
            if "server" in found:
                return found
            time.sleep(0.2)
        log = "".join(p.read_text() for p in self.folder.glob("*.log"))
        raise AssertionError(f"the resident process did not come up: {log}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (its parent has not reaped it yet) has ended
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def ctrl_c_delivered() -> None:
    """For a child's preexec_fn: Ctrl-C reaches it whatever started the tests.

    A suite started in the background of a shell without job control inherits SIGINT as
    ignored, and so would the child.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def slow_model_run(resident_on: Resident, server: socket.socket) -> subprocess.Popen[str]:
    port = server.getsockname()[1]
    return subprocess.Popen(
        [str(SCRIPT), "run", "--no-memory", "what is 2 + 2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=ctrl_c_delivered,
        env={
            **resident_on.env,
            "PODIUM_HOME": resident_on.fresh_home(),
            "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "PODIUM_MODEL": "slow-model",
            "PODIUM_CONTEXT_WINDOW": "8192",
        },
    )
