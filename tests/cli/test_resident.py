"""The resident process: a command it runs answers, exits and stops as one run here would.

Each test starts the ``podium`` console script as a person runs it, with the resident
process on and its sockets in a folder of the test's own; the process is stopped at the
end (and killed if it would not stop).
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from podium.cli import resident
from tests.cli.resident_env import ROOT, SCRIPT, Resident, alive, slow_model_run

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the resident process is Linux's alone"
)


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


def test_ctrl_c_reaches_its_command_and_names_the_thread(resident_on: Resident) -> None:
    resident_on.up()
    with socket.create_server(("127.0.0.1", 0)) as server:  # a model server that never answers
        process = slow_model_run(resident_on, server)
        server.settimeout(60)
        connection, _ = server.accept()  # the command is waiting for the model now
        with connection:
            assert resident_on.status()["running"], "the command is not the resident's"
            process.send_signal(signal.SIGINT)
            sent = time.monotonic()
            _, stderr = process.communicate(timeout=30)
            took = time.monotonic() - sent
    assert process.returncode == 130, stderr
    assert took < 2.0, f"exited {took:.2f} s after Ctrl-C"
    assert "interrupted: the run of thread " in stderr
    assert "continue it with: podium resume " in stderr
    assert "Traceback" not in stderr


def test_a_caller_killed_outright_takes_its_command_with_it(resident_on: Resident) -> None:
    resident_on.up()
    with socket.create_server(("127.0.0.1", 0)) as server:
        process = slow_model_run(resident_on, server)
        server.settimeout(60)
        connection, _ = server.accept()
        with connection:
            running = resident_on.status()["running"]
            assert isinstance(running, list) and len(running) == 1
            child = int(running[0])
            process.kill()  # kill -9: no signal to pass on
            process.communicate(timeout=30)
            deadline = time.monotonic() + 10
            while alive(child) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not alive(child), "the command ran on after its caller was killed"
    assert resident_on.status()["running"] == []


def test_it_ends_after_its_idle_time(resident_on: Resident) -> None:
    resident_on.env["PODIUM_RESIDENT_IDLE"] = "1"
    server = int(resident_on.up()["server"])  # type: ignore[call-overload]
    deadline = time.monotonic() + 20
    while alive(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(server)
    assert not list(resident_on.folder.glob("*.sock"))  # it took its socket with it
    home = resident_on.fresh_home()
    again = resident_on.podium("run", "--no-memory", "what is 2 + 2", PODIUM_HOME=home)
    assert again.returncode == 0 and "4" in again.stdout  # the next command runs here


@pytest.mark.parametrize("mode", [0o755, 0o711])
def test_a_folder_others_can_open_is_not_used(tmp_path: Path, mode: int) -> None:
    # Another user who could reach the socket would run commands as this one.
    folder = Path(tempfile.mkdtemp(prefix="podium-o-"))
    folder.chmod(mode)
    assert resident.folder({"PODIUM_RESIDENT_DIR": str(folder)}) is None
    done = subprocess.run(
        [str(SCRIPT), "run", "--no-memory", "what is 2 + 2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PODIUM_RESIDENT": "1", "PODIUM_RESIDENT_DIR": str(folder)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    time.sleep(1.0)
    assert list(folder.iterdir()) == []  # no process started, no socket made


def test_a_new_folder_is_made_for_this_user_alone(tmp_path: Path) -> None:
    made = resident.folder({"PODIUM_RESIDENT_DIR": str(tmp_path / "new")})
    assert made is not None
    found = made.stat()
    assert found.st_uid == os.getuid()
    assert stat.S_IMODE(found.st_mode) == 0o700


def test_its_name_changes_with_what_imports_read_and_only_that() -> None:
    base = {"PATH": "/usr/bin", "PODIUM_HOME": "/a", "PWD": "/x"}
    same = {"PATH": "/usr/bin", "PODIUM_HOME": "/b", "PWD": "/y"}  # read when run, not imported
    assert resident.key(base) == resident.key(same)
    for name, value in [
        ("PYTHONPATH", "/tmp/other"),
        ("LANG", "de_DE.UTF-8"),
        ("LANGSMITH_TRACING", "true"),
        ("HOME", "/home/other"),  # the embedder's folder is ~/.cache's, read at import
        ("TMPDIR", "/var/tmp"),
    ]:
        assert resident.key(base) != resident.key({**base, name: value}), name


def test_an_edited_source_file_names_another_process(tmp_path: Path) -> None:
    (tmp_path / "module.py").write_text("x = 1\n")
    before = resident._sources(tmp_path)
    time.sleep(0.01)
    (tmp_path / "module.py").write_text("x = 22\n")
    assert resident._sources(tmp_path) != before


@pytest.mark.parametrize(
    ("arguments", "env", "expected"),
    [
        (["run", "x"], {}, True),
        (["--debug", "chat"], {}, True),
        (["resume", "t"], {}, True),
        (["tools"], {}, False),  # already fast: it runs here
        (["serve"], {}, False),
        (["run", "x"], {"PODIUM_RESIDENT": "0"}, False),
        (["run", "x"], {"PODIUM_RESIDENT": "off"}, False),
        ([], {}, False),
    ],
)
def test_which_commands_go_to_it(arguments: list[str], env: dict[str, str], expected: bool) -> None:
    assert resident.wanted(arguments, env) is expected


def test_the_chat_has_the_callers_terminal(resident_on: Resident) -> None:
    import pty
    import termios

    resident_on.up()
    pid, terminal = pty.fork()
    if pid == 0:  # the child: podium chat on a terminal, handed to the resident process
        os.chdir(ROOT)
        os.environ.update({**resident_on.env, "PODIUM_HOME": resident_on.fresh_home()})
        os.execv(str(SCRIPT), [str(SCRIPT), "chat", "--no-memory"])
    seen = b""

    def read_until(marker: bytes, start: int = 0) -> None:
        nonlocal seen
        deadline = time.monotonic() + 90
        while marker not in seen[start:] and time.monotonic() < deadline:
            try:
                seen += os.read(terminal, 4096)
            except OSError:
                break

    read_until(b"you>")
    os.write(terminal, b"what is 6 * 7\r")
    read_until(b"42")
    read_until(b"you>", start=seen.index(b"42"))
    ready = time.monotonic() + 30
    while termios.tcgetattr(terminal)[3] & termios.ICANON and time.monotonic() < ready:
        time.sleep(0.01)
    at = len(seen)
    os.write(terminal, b"\x1b[A\r")  # Up, Enter: readline edits on the caller's terminal
    read_until(b"42", start=at)
    read_until(b"you>", start=at)
    os.write(terminal, b"/quit\r")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"^[[A" not in seen
    assert seen[at:].count(b"42") >= 1, seen.decode(errors="replace")
    assert resident_on.status()["served"] == 1  # the chat was the resident's


def test_the_files_its_command_makes_have_the_callers_umask(resident_on: Resident) -> None:
    # The resident process was started under another umask than this caller's.
    resident_on.up()

    def modes(home: Path) -> dict[str, int]:
        return {
            str(p.relative_to(home)): stat.S_IMODE(p.stat().st_mode)
            for p in sorted(home.rglob("*"))
            if p.is_file() and not p.name.endswith(("-wal", "-shm", ".lock"))
        }

    made = {}
    for mode in ("1", "0"):
        home = Path(resident_on.fresh_home())
        done = subprocess.run(
            ["sh", "-c", f'umask 077 && exec "{SCRIPT}" run --no-memory "what is 2 + 2"'],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**resident_on.env, "PODIUM_HOME": str(home), "PODIUM_RESIDENT": mode},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        made[mode] = modes(home)
    assert made["1"] and made["1"] == made["0"]
    assert all(not m & 0o077 for m in made["1"].values())
    assert resident_on.status()["served"] == 1


def test_asking_for_its_status_does_not_keep_it_up(resident_on: Resident) -> None:
    resident_on.env["PODIUM_RESIDENT_IDLE"] = "2"
    server = int(resident_on.up()["server"])  # type: ignore[call-overload]
    deadline = time.monotonic() + 20
    while alive(server) and time.monotonic() < deadline:
        resident_on.status()  # each one took the idle time back to its start
        time.sleep(0.2)
    assert not alive(server), "status calls kept it up"
