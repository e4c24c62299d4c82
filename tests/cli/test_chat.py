"""`podium chat`: commands are the chat's own, and Ctrl-C ends the turn, not the session."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app
from tests.cli.resident_env import ctrl_c_delivered

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner(env={"COLUMNS": "200"})


def test_help_and_unknown_commands_do_not_go_to_the_agent() -> None:
    result = runner.invoke(app, ["chat", "--no-memory"], input="/help\n/frobnicate\n/thread\n")
    assert result.exit_code == 0, result.output
    assert "/new" in result.stdout and "/quit" in result.stdout  # /help lists them
    assert "unknown command /frobnicate: /help lists the commands" in result.stdout
    assert "No tool fits" not in result.stdout  # nothing reached the agent


def test_a_path_is_a_request_not_a_command() -> None:
    result = runner.invoke(app, ["chat", "--no-memory"], input="/etc/hosts, what is in it?\n")
    assert "unknown command" not in result.stdout


def test_ctrl_c_ends_the_turn_and_the_conversation_goes_on() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:  # a model server that never answers
        process = subprocess.Popen(
            [sys.executable, "-m", "podium.cli.main", "chat", "--no-memory"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            preexec_fn=ctrl_c_delivered,
            env={
                **os.environ,
                "OPENAI_BASE_URL": f"http://127.0.0.1:{server.getsockname()[1]}/v1",
                "PODIUM_MODEL": "slow-model",
                "PODIUM_CONTEXT_WINDOW": "8192",
            },
        )
        assert process.stdin is not None
        process.stdin.write("what is 2 + 2\n")
        process.stdin.flush()
        server.settimeout(60)
        connection, _ = server.accept()  # the turn waits for the model
        with connection:
            time.sleep(0.2)
            process.send_signal(signal.SIGINT)
            time.sleep(1.0)
            out, err = process.communicate("/thread\n/quit\n", timeout=60)
    assert process.returncode == 0, err
    assert "the turn was cancelled; the conversation goes on" in out
    assert out.count("thread ") >= 2  # the banner, then /thread after Ctrl-C


def test_tools_lists_what_run_uses_and_reads_at_80_columns() -> None:
    listed = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["tools"])
    assert listed.exit_code == 0, listed.output
    names = ("calculator", "current_time", "read_file", "list_files", "memory_search")
    assert listed.stdout.startswith("6 tools") and all(n in listed.stdout for n in names)
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80


def test_the_up_arrow_brings_back_the_last_line_on_a_terminal(isolated: Path) -> None:
    import pty
    import termios

    pid, terminal = pty.fork()
    if pid == 0:  # the child: podium chat on a terminal
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "podium.cli.main", "chat", "--no-memory"])
    seen = b""

    def read_until(marker: bytes, seconds: float = 90, start: int = 0) -> None:
        nonlocal seen
        deadline = time.monotonic() + seconds
        while marker not in seen[start:] and time.monotonic() < deadline:
            try:
                seen += os.read(terminal, 4096)
            except OSError:
                break

    read_until(b"you>")
    os.write(terminal, b"what is 6 * 7\r")
    read_until(b"42")
    # Only once the next prompt is out is readline reading: a key typed before it is
    # echoed by the terminal itself (as ^[[A), whatever podium does.
    read_until(b"you>", start=seen.index(b"42"))
    # ... and the prompt can be out a moment before readline has the terminal (a loaded
    # machine once showed it): readline turns the terminal's line mode off when it reads.
    ready = time.monotonic() + 30
    while termios.tcgetattr(terminal)[3] & termios.ICANON and time.monotonic() < ready:
        time.sleep(0.01)
    at = len(seen)
    os.write(terminal, b"\x1b[A\r")  # Up, Enter: the same request again
    read_until(b"you>")
    deadline = time.monotonic() + 90
    while seen[at:].count(b"42") < 1 and time.monotonic() < deadline:
        seen += os.read(terminal, 4096)
    os.write(terminal, b"/quit\r")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # /quit ends the session
    assert b"^[[A" not in seen  # the arrow was an edit, not text
    assert seen[at:].count(b"42") >= 1, seen.decode(errors="replace")
    assert (isolated / "chat_history").is_file()  # kept for the next session
