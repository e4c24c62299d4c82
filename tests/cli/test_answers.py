"""What a run shows at the terminal: answers in words, and why a call failed."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner(env={"COLUMNS": "200"})


def test_the_answer_is_said_in_words_not_as_a_call() -> None:
    result = runner.invoke(app, ["run", "--no-memory", "What time is it in Tokyo?"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("current time, Tokyo: ")
    assert "(JST, Asia/Tokyo)" in result.stdout and "→" not in result.stdout


def test_verbose_keeps_the_call_table_and_says_the_answer_once() -> None:
    result = runner.invoke(app, ["run", "-v", "--no-memory", "seven times six"])
    assert result.exit_code == 0, result.output
    assert "tool calls" in result.stdout and 'calculator(expression="7 * 6")' in result.stdout
    assert result.stdout.count("calculator, 7 * 6: 42") == 1


def test_a_failed_call_says_why_live_and_in_its_trace() -> None:
    live = runner.invoke(app, ["run", "-v", "--no-memory", "read the file missing.txt"])
    assert live.exit_code == 1
    why = "FileNotFoundError: no file 'missing.txt' in the sandbox"
    assert "tool read_file error" in live.stdout and why in live.stdout
    ran = runner.invoke(app, ["run", "--json", "--no-memory", "read the file missing.txt"])
    trace_id = json.loads(ran.stdout)["trace_id"]
    shown = runner.invoke(app, ["trace", "show", trace_id])
    assert shown.exit_code == 0, shown.output
    assert "tool read_file error" in shown.stdout and why in shown.stdout
