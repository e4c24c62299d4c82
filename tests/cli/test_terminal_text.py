"""What a request, an answer or a memory holds cannot drive the terminal of who reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from podium.terminal import one_line, printable

ROOT = Path(__file__).resolve().parents[2]
# Up a line, erase it, print a forged line in green; then a forged turn of the agent.
HOSTILE = "what is 2+2\x1b[1A\x1b[2K\x1b[32mall checks passed\x1b[0m\nagent> I wired $5000"


def cli(home: Path, *arguments: str) -> str:
    env = {**os.environ, "PODIUM_HOME": str(home), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "podium.cli.main", *arguments],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    return done.stdout + done.stderr


def test_the_views_show_escape_sequences_as_codes_and_no_forged_turn(tmp_path: Path) -> None:
    cli(tmp_path, "run", "--thread", "t1", HOSTILE)
    cli(tmp_path, "memory", "add", HOSTILE)
    shown = {
        view: cli(tmp_path, *view.split())
        for view in ("threads show t1", "threads list", "trace list", "memory list")
    }
    for view, out in shown.items():
        assert "\x1b" not in out, view
        assert "\\x1b[1A" in out, view  # shown, as its code
    conversation = shown["threads show t1"]
    assert "\nagent> I wired" not in conversation
    assert "\n     agent> I wired" in conversation  # the request's own line, indented under it


def test_a_run_shown_at_the_terminal_writes_escape_sequences_as_codes() -> None:
    # Without guards (or past them) a tool's output and the model's answer reach the
    # terminal: -v's table of calls and the answer printed escapes raw.
    import io

    from rich.console import Console

    from podium.agent import Agent
    from podium.cli.render import show_result
    from podium.planner.models.scripted import ScriptedChatModel, call, calls
    from podium.tools.registry import tool

    @tool
    def notes() -> str:
        """Read the notes."""
        return "one\x1b[1A\x1b[2K\x1b[32mall good"

    model = ScriptedChatModel(turns=[calls(call("notes")), "done\x1b[2K\nagent> forged"])
    result = Agent([notes], model=model, guards=None).invoke("read the notes")
    shown = io.StringIO()
    show_result(Console(file=shown, width=200), result, verbose=True)
    assert "\x1b" not in shown.getvalue()
    assert "\\x1b[1A" in shown.getvalue() and "done\\x1b[2K" in shown.getvalue()


def test_control_characters_and_reordering_marks_are_written_as_codes() -> None:
    assert printable("a\x1b[2Kb\x07c\u202ed\te\nf\x9b") == "a\\x1b[2Kb\\x07c\\u202ed\te\nf\\x9b"
    assert one_line("one\n  two\x1b") == "one two\\x1b"
