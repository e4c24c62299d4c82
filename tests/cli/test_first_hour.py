"""The first things a person does with the ``podium`` command, in a process of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.resident_env import ctrl_c_delivered

ROOT = Path(__file__).resolve().parents[2]


def podium(
    *arguments: str, cwd: Path = ROOT, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``podium ARGUMENTS`` as the shell runs it, with the test's home and ``env`` added."""
    return subprocess.run(
        [sys.executable, "-m", "podium.cli.main", *arguments],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd,
        env={**os.environ, **env},
        timeout=120,
    )


def test_version() -> None:
    done = podium("--version")
    assert done.returncode == 0 and done.stdout.startswith("podium ")


def test_a_misspelt_variable_is_named_with_the_one_meant() -> None:
    done = podium("run", "--no-memory", "what is 2 + 2", PODIUM_MODLE="gpt-4o")
    assert "PODIUM_MODLE is not a podium setting and is ignored; did you mean 'PODIUM_MODEL'?" in (
        done.stderr
    )


def test_a_config_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    done = podium("run", "--no-memory", "what is 2 + 2", PODIUM_CONFIG=str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert "PODIUM_CONFIG names" in done.stderr and "which is not a file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_config_file_typo_is_named_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("max_steps = 5\nmodle = 'gpt-4o'\n")
    done = podium("run", "--no-memory", "what is 2 + 2", PODIUM_CONFIG=str(config))
    assert done.returncode == 2
    assert f"{config}, line 2: modle is not a setting" in done.stderr
    assert "did you mean 'model'?" in done.stderr


@pytest.mark.parametrize("how", ["stdin", "file"])
def test_a_long_request_comes_from_a_file_or_standard_input(tmp_path: Path, how: str) -> None:
    text = "what is 12 * 12" + " " * 90_000  # most of what one argument may hold
    if how == "stdin":
        done = podium("run", "--no-memory", "-", stdin=text)
    else:
        (tmp_path / "request.txt").write_text(text)
        done = podium("run", "--no-memory", "--file", str(tmp_path / "request.txt"))
    assert done.returncode == 0, done.stderr
    assert "144" in done.stdout


def test_ctrl_c_exits_at_once_naming_the_thread_and_how_to_resume() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:  # a model server that never answers
        port = server.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "podium.cli.main", "run", "--no-memory", "what is 2 + 2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            preexec_fn=ctrl_c_delivered,
            env={
                **os.environ,
                "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
                "PODIUM_MODEL": "slow-model",
                "PODIUM_CONTEXT_WINDOW": "8192",
            },
        )
        server.settimeout(60)
        connection, _ = server.accept()  # the run is waiting for the model now
        with connection:
            time.sleep(0.2)
            process.send_signal(signal.SIGINT)
            sent = time.monotonic()
            _, stderr = process.communicate(timeout=30)
            took = time.monotonic() - sent
    assert process.returncode == 130, stderr
    assert took < 2.0, f"exited {took:.2f} s after Ctrl-C"  # 0.5 s on an idle machine
    assert "interrupted: the run of thread " in stderr
    thread = stderr.split("the run of thread ")[1].split(" ")[0]
    assert f"continue it with: podium resume {thread}" in stderr
    assert "Traceback" not in stderr
    resumed = podium("resume", thread, "--no-memory")  # the command it named, now offline
    assert resumed.returncode == 0, resumed.stderr
    assert "calculator, 2 + 2: 4" in resumed.stdout
    shown = podium("threads", "show", thread)
    assert "last run: ended (answered)" in shown.stdout
