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


def _ctrl_c_delivered() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # (a suite in the background ignores it)


def test_a_command_it_runs_answers_and_exits_as_one_run_here(resident_on: Resident) -> None:
    served = int(resident_on.up()["served"])  # type: ignore[call-overload]
    cases: list[tuple[tuple[str, ...], str | None]] = [
        (("run", "what is 2 + 2"), None),  # memory on: the defaults
        (("run", "--no-memory", "-"), "what is 12 * 12"),  # the request on standard input
        (("run", "--no-memory", ""), None),  # refused: exit 2
        (("run", "--policy", "missing.yaml", "what is 2 + 2"), None),  # refused: exit 2
        (("run", "--no-memory", "refund order 7"), None),  # no tool fits: exit 1
        (("--debug", "run", "--no-memory", "what is 3 * 3"), None),
    ]
    for arguments, stdin in cases:
        home, other = resident_on.fresh_home(), resident_on.fresh_home()
        there = resident_on.podium(*arguments, stdin=stdin, PODIUM_HOME=home)
        here = resident_on.podium(*arguments, stdin=stdin, PODIUM_HOME=other, PODIUM_RESIDENT="0")
        assert there.returncode == here.returncode, (arguments, there.stderr, here.stderr)
        assert there.stdout == here.stdout, arguments
        assert there.stderr.replace(home, "HOME") == here.stderr.replace(other, "HOME"), arguments
    assert resident_on.status()["served"] == served + len(cases)  # all went to it


def test_its_command_sees_the_callers_folder_and_environment(resident_on: Resident) -> None:
    resident_on.up()
    work = resident_on.home.parent / "work"
    work.mkdir()
    (work / "request.txt").write_text("what is 5 * 5")
    done = subprocess.run(
        [str(SCRIPT), "run", "--no-memory", "--file", "request.txt"],
        capture_output=True,
        text=True,
        cwd=work,  # a relative path: read from the caller's folder
        env={**resident_on.env, "PODIUM_HOME": resident_on.fresh_home(), "PODIUM_MODLE": "x"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "25" in done.stdout
    assert "PODIUM_MODLE is not a podium setting" in done.stderr  # the caller's variables
    assert resident_on.status()["served"] == 1  # (the first command ran here, to start it)


def slow_model_run(resident_on: Resident, server: socket.socket) -> subprocess.Popen[str]:
    port = server.getsockname()[1]
    return subprocess.Popen(
        [str(SCRIPT), "run", "--no-memory", "what is 2 + 2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=_ctrl_c_delivered,
        env={
            **resident_on.env,
            "PODIUM_HOME": resident_on.fresh_home(),
            "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "PODIUM_MODEL": "slow-model",
            "PODIUM_CONTEXT_WINDOW": "8192",
        },
    )
