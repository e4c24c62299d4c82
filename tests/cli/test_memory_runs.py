"""What runs leave in memory, with the defaults (memory on), as a person sees it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "podium.cli.main", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def test_parallel_first_runs_keep_every_result_and_nothing_else() -> None:
    # Three first runs at once in a fresh home: each keeps its memory (one of three before).
    runs = [start("run", request) for request in ("what is 2 + 2", "7 * 6", "10 - 4")]
    outputs = [finished(process) for process in runs]
    assert all(code == 0 for code, _, _ in outputs), outputs
    code, out, _ = finished(start("memory", "stats"))
    assert out.strip() == "default  3 pieces", (outputs, finished(start("memory", "list")))
    # A run that established nothing is not remembered, and a recalled memory is no answer.
    code, out, _ = finished(start("run", "tell me a joke about penguins"))
    assert code == 1 and "From memory" not in out and "2 + 2" not in out
    code, out, _ = finished(start("run", "square root of 144"))
    assert code == 0 and "12" in out and "From memory" not in out
    listed = finished(start("memory", "list"))[1]
    assert "penguins" not in listed and "square root of 144" in listed
