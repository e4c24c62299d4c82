"""`trace list` and `stats` at 80 columns and as JSON, after a few runs."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from podium.cli.main import app


def test_trace_list_keeps_ids_whole_at_80_columns_and_as_json() -> None:
    runner = CliRunner(env={"COLUMNS": "80"})
    ran = runner.invoke(app, ["run", "--json", "--no-memory", "what is 6 * 7 " + "please " * 20])
    trace_id = json.loads(ran.stdout)["trace_id"]
    listed = runner.invoke(app, ["trace", "list"])
    assert listed.exit_code == 0, listed.output
    assert trace_id[:12] in listed.stdout  # trace show takes it
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    shown = runner.invoke(app, ["trace", "show", trace_id[:12]])
    assert shown.exit_code == 0 and "tool calculator ok" in shown.stdout
    rows = [
        json.loads(line)
        for line in runner.invoke(app, ["trace", "list", "--json"]).stdout.splitlines()
    ]
    assert [r["trace_id"] for r in rows] == [trace_id] and rows[0]["stop_reason"] == "answered"


def test_stats_counts_failed_and_unanswered_runs_as_failures() -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    for request in ("what is 6 * 7", "read the file missing.txt", "tell me a joke"):
        runner.invoke(app, ["run", "--no-memory", request])
    data = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert data["runs"] == 3 and data["answered"] == 3 and data["succeeded"] == 1
    assert abs(data["success_rate"] - 1 / 3) < 1e-9
    assert data["by_tool"]["read_file"] == {"calls": 1, "ok": 0}
    shown = runner.invoke(app, ["stats"])
    assert shown.exit_code == 0 and "33.3%" in shown.stdout


def test_the_eval_table_reads_at_80_columns() -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(
        app, ["eval", "podium/evals/suites/builtin.yaml"]
    )
    assert result.exit_code == 0, result.output
    assert "failure_recovery" in result.stdout and "100.0%" in result.stdout
    assert "…" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
