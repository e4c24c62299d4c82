"""`podium eval` as a new user runs it: failures they can act on, input refused up front."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner()
TABLE = "┏"  # the first character of the results table


def write_suite(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


def test_a_failed_case_shows_the_answer_and_the_calls_everywhere(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        "name: wrong\ntools: [calculator]\ncases:\n"
        "  - {id: add, request: 'What is 2 + 3?', answer: {number: 6}}\n",
    )
    report, page = tmp_path / "r.json", tmp_path / "r.html"
    result = runner.invoke(app, ["eval", str(suite), "--json", str(report), "--html", str(page)])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    at = lines.index("FAIL add: answer has no number within 1e-06 of 6.0")
    assert lines[at + 1] == '  answer: calculator(expression="2 + 3") → 5'
    assert lines[at + 2] == "  calls: calculator(expression='2 + 3') -> ok"

    outcome = json.loads(report.read_text())["outcomes"][0]
    assert outcome["answer"] == 'calculator(expression="2 + 3") → 5'
    assert outcome["calls"] == [
        {"name": "calculator", "arguments": {"expression": "2 + 3"}, "status": "ok"}
    ]
    assert outcome["request"] == "What is 2 + 3?"
    assert outcome["expected"] == "answer has the number 6 (within 1e-06)"

    html = page.read_text()
    assert '<table class="cases">' in html
    for cell in (
        "What is 2 + 3?",
        "answer has the number 6 (within 1e-06)",
        "calculator(expression=&#x27;2 + 3&#x27;) -&gt; ok",
        "answer has no number within 1e-06 of 6.0",
        outcome["trace_id"],
    ):
        assert cell in html, cell


def test_failures_beyond_the_ten_shown_are_counted(tmp_path: Path) -> None:
    cases = "".join(
        f"  - {{id: c{n}, request: 'Hello number {n}', expect_calls: [{{name: calculator}}]}}\n"
        for n in range(13)
    )
    suite = write_suite(tmp_path, f"name: many\ntools: [calculator]\ncases:\n{cases}")
    result = runner.invoke(app, ["eval", str(suite), "--concurrency", "8"])
    assert result.exit_code == 1, result.output
    assert result.stdout.count("FAIL c") == 10
    assert (
        "... and 3 more failed trial(s), not shown: --json FILE or --html FILE lists them all"
        in result.stdout
    )


def test_a_threshold_outside_0_to_1_is_refused_as_in_a_suite(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        "name: t\ntools: [calculator]\ncases:\n  - {id: add, request: 'What is 2 + 3?'}\n",
    )
    result = runner.invoke(app, ["eval", str(suite), "--threshold", "1.5"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: --threshold 1.5 is outside 0..1 (input should be less than or equal to 1): "
        "the threshold is the share of trials that must pass",
        "  fix: give a share from 0 to 1, like 0.9 for 90%",
    ]
    in_a_suite = write_suite(
        tmp_path, suite.read_text().replace("tools:", "threshold: 1.5\ntools:")
    )
    refused = runner.invoke(app, ["eval", str(in_a_suite)])
    assert refused.exit_code == 2 and "less than or equal to 1" in refused.output


def test_a_suite_naming_an_unknown_tool_prints_only_the_error(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        "name: t\ntools: [calculatr]\ncases:\n  - {id: add, request: 'What is 2 + 3?'}\n",
    )
    result = runner.invoke(app, ["eval", str(suite), "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert TABLE not in result.output
    assert result.output.splitlines() == [
        "error: suite 't' names a tool that does not exist: 'calculatr'",
        "  fix: use one of: calculator, current_time, list_files, read_file, "
        "or define it under inline_tools",
    ]
    assert not (tmp_path / "r.json").exists()  # nothing ran, nothing was written
