"""The resident process under attack: a hostile folder, slow or silent callers, its own end.

Each was found by attacking it; each test fails on the code before its fix.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cli.resident_env import ROOT, SCRIPT, Resident, slow_model_run

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the resident process is Linux's alone"
)

SHADOW = """
import importlib, pathlib, sys
pathlib.Path({marker!r}).write_text(str(pathlib.Path.cwd()))
sys.path[:] = [p for p in sys.path if p not in ("", {folder!r})]
del sys.modules[__name__]
sys.modules[__name__] = importlib.import_module(__name__)
"""


def test_status_answers_every_time(resident_on: Resident) -> None:
    # Its answer came before the caller's last (empty) send, which then failed: "not running".
    server = resident_on.up()["server"]
    for _ in range(15):
        assert resident_on.status().get("server") == server


def test_a_module_in_the_first_callers_folder_is_not_imported_later(
    resident_on: Resident, tmp_path: Path
) -> None:
    hostile, marker = tmp_path / "downloads", tmp_path / "imported-from"
    hostile.mkdir()
    (hostile / "aiosqlite.py").write_text(SHADOW.format(marker=str(marker), folder=str(hostile)))
    first = subprocess.run(
        [str(SCRIPT), "run", "--no-memory", "what is 2 + 2"],
        cwd=hostile,  # the command that starts the resident process runs from this folder
        env={**resident_on.env, "PODIUM_HOME": resident_on.fresh_home()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert not marker.exists()  # it ran here: a console script's path has not its folder
    served = int(resident_on.up()["served"])  # type: ignore[call-overload]
    later = resident_on.podium("run", "what is 3 + 3", PODIUM_HOME=resident_on.fresh_home())
    assert later.returncode == 0 and "6" in later.stdout, later.stderr
    assert resident_on.status()["served"] == served + 1
    assert not marker.exists(), f"a module of {hostile} ran for a command in {ROOT}"


def _socket(resident_on: Resident) -> Path:
    return next(resident_on.folder.glob("*.sock"))


def test_a_caller_sending_slowly_holds_no_other_command_up(resident_on: Resident) -> None:
    resident_on.up()
    stop = threading.Event()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as slow:
        slow.connect(str(_socket(resident_on)))
        slow.sendall(struct.pack(">I", 1000))

        def dribble() -> None:  # a byte a second: each read is quick, the message never ends
            while not stop.wait(1.0):
                try:
                    slow.send(b" ")
                except OSError:
                    return

        sender = threading.Thread(target=dribble)
        sender.start()
        try:
            started = time.monotonic()
            done = resident_on.podium(
                "run", "--no-memory", "what is 2 + 2", PODIUM_HOME=resident_on.fresh_home()
            )
            took = time.monotonic() - started
        finally:
            stop.set()
            sender.join()
    assert done.returncode == 0 and "4" in done.stdout, done.stderr
    assert took < 12, f"a command waited {took:.1f} s behind a caller sending slowly"


def test_a_caller_waiting_when_it_ends_runs_its_command_here(resident_on: Resident) -> None:
    server = resident_on.up()["server"]
    assert isinstance(server, int)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.connect(str(_socket(resident_on)))  # holds it up (at most its time-out)
        waiting = subprocess.Popen(
            [str(SCRIPT), "run", "--no-memory", "what is 2 + 2"],
            cwd=ROOT,
            env={**resident_on.env, "PODIUM_HOME": resident_on.fresh_home()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)  # connected and sent, waiting for its answer
        os.kill(server, signal.SIGTERM)
        out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0 and "4" in out, err
    assert "Traceback" not in err


def test_a_command_in_a_removed_folder_runs_here(resident_on: Resident, tmp_path: Path) -> None:
    resident_on.up()
    gone = tmp_path / "gone"
    done = subprocess.run(
        [
            "sh",
            "-c",
            f'mkdir "{gone}" && cd "{gone}" && rmdir "{gone}" && exec "{SCRIPT}" '
            'run --no-memory "what is 2 + 2"',
        ],
        env={**resident_on.env, "PODIUM_HOME": resident_on.fresh_home()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "4" in done.stdout, done.stderr
    assert "Traceback" not in done.stderr


def test_its_usage_lines_name_the_podium_command(resident_on: Resident) -> None:
    resident_on.up()
    there = resident_on.podium("run", "--bogus")
    here = resident_on.podium("run", "--bogus", PODIUM_RESIDENT="0")
    assert there.returncode == here.returncode == 2
    assert "Usage: podium run" in there.stderr and there.stderr == here.stderr


KEY = "from podium.cli import resident; print(resident.key({'PATH': '/usr/bin'}))"


def test_its_name_follows_the_callers_priority() -> None:
    plain = subprocess.run([sys.executable, "-c", KEY], capture_output=True, text=True)
    niced = subprocess.run(
        ["nice", "-n", "5", sys.executable, "-c", KEY], capture_output=True, text=True
    )
    assert plain.returncode == niced.returncode == 0
    assert plain.stdout != niced.stdout  # a niced caller's commands are not run at priority 0


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_caller_killed_by_a_signal_ends_by_it_as_one_run_here(
    resident_on: Resident, number: int
) -> None:
    resident_on.up()
    ended = {}
    for mode in ("1", "0"):
        with socket.create_server(("127.0.0.1", 0)) as server:  # a model that never answers
            resident_on.env["PODIUM_RESIDENT"] = mode
            process = slow_model_run(resident_on, server)
            server.settimeout(60)
            connection, _ = server.accept()
            with connection:
                process.send_signal(number)
                process.communicate(timeout=30)
        ended[mode] = process.returncode
    resident_on.env["PODIUM_RESIDENT"] = "1"
    assert ended["1"] == ended["0"] == -number


def test_ctrl_c_reaches_a_command_whose_resident_process_died(resident_on: Resident) -> None:
    server_pid = resident_on.up()["server"]
    assert isinstance(server_pid, int)
    with socket.create_server(("127.0.0.1", 0)) as server:  # a model that never answers
        process = slow_model_run(resident_on, server)
        server.settimeout(60)
        connection, _ = server.accept()  # its command waits for the model
        with connection:
            os.kill(server_pid, signal.SIGKILL)  # the resident process dies under it
            time.sleep(0.5)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
    assert "Traceback" not in err, err
    assert "interrupted: the run of thread " in err  # the command itself got the Ctrl-C
    assert "the resident process ended before the command did" in err
