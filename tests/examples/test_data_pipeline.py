"""The data-pipeline example, offline (its planner is scripted: the steps are fixed)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from examples.data_pipeline.generate import generate
from examples.data_pipeline.pipeline import Batch, build_agent, main
from podium.results import RunResult

SOURCES = ["orders.csv", "orders.jsonl"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    generate(tmp_path / "data", rows=3000, bad_share=0.05, seed=3)
    return tmp_path / "data"


def run(folder: Path, database: Path) -> tuple[Batch, RunResult]:
    batch = Batch(folder, database)
    return batch, build_agent(batch, SOURCES).invoke("run the pipeline")


def pipeline(monkeypatch: pytest.MonkeyPatch, *arguments: str) -> int:
    """``python -m examples.data_pipeline.pipeline ARGUMENTS``, in this process: its exit code."""
    monkeypatch.setattr(sys, "argv", ["pipeline", *arguments])
    return main()


def rows_in(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM orders").fetchone()[0])


def test_valid_rows_are_loaded_and_bad_ones_quarantined_with_reasons(
    folder: Path, tmp_path: Path
) -> None:
    database = tmp_path / "warehouse.db"
    batch, result = run(folder, database)
    assert result.stop_reason == "answered", result.answer
    quarantine = [json.loads(line) for line in (folder / "quarantine.jsonl").open()]
    assert len(batch.valid) + len(quarantine) == 3001  # 3,000 rows and one broken JSON line
    assert 100 < len(quarantine) < 200  # about 5% bad rows
    reasons = {item["reason"].split(":")[0] for item in quarantine}
    assert reasons == {"amount", "currency", "ordered_at", "customer", "not valid JSON"}
    assert rows_in(database) == len(batch.valid)
    assert "Rows set aside by field: amount:" in result.answer  # the sub-agent's summary


def test_a_failed_load_writes_nothing_and_ends_the_run(folder: Path, tmp_path: Path) -> None:
    database = tmp_path / "warehouse.db"
    run(folder, database)
    before = rows_in(database)
    csv = folder / "orders.csv"
    header, first, *rest = csv.read_text().splitlines()
    changed = first.split(",")
    changed[2] = "1.23"  # order 1 again, with another amount: never overwritten
    csv.write_text("\n".join([header, ",".join(changed), *rest]) + "\n")
    _, again = run(folder, database)
    assert again.stop_reason == "aborted"
    assert "the load wrote nothing: 1 order(s) were loaded before with other values" in again.answer
    assert "(first: order 1)" in again.answer
    assert rows_in(database) == before


def test_a_second_run_of_the_same_input_skips_what_was_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the user did: the same command twice; the second failed on UNIQUE, exit 0."""
    command = ["--rows", "600", "--folder", str(tmp_path / "data")]
    assert pipeline(monkeypatch, *command) == 0
    loaded = rows_in(tmp_path / "data" / "warehouse.db")
    assert f"loaded {loaded} new rows" in capsys.readouterr().out
    assert pipeline(monkeypatch, *command) == 0
    shown = capsys.readouterr().out
    assert "loaded 0 new rows" in shown and f"{loaded} already loaded, skipped" in shown
    assert "0 rows, 0.00 EUR: as expected" in shown
    assert rows_in(tmp_path / "data" / "warehouse.db") == loaded


def test_rows_is_honoured_for_a_folder_that_holds_another_data_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    assert pipeline(monkeypatch, "--rows", "600", "--folder", str(folder)) == 0
    capsys.readouterr()
    assert pipeline(monkeypatch, "--rows", "300", "--folder", str(folder)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {folder} already holds a data set of 600 rows, not 300",
        f"  fix: run without --rows to use it, or start over: remove {folder} (its data set"
        " and warehouse.db) or give another --folder",
    ]
    assert pipeline(monkeypatch, "--folder", str(folder)) == 0  # without --rows: the data set there


def test_a_folder_that_cannot_be_written_is_named_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline(monkeypatch, "--rows", "10", "--folder", "/proc/nope") == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: cannot write the data set into /proc/nope: No such file or directory",
        "  fix: give a folder you can write, like --folder pipeline-data",
    ]


def test_a_failure_after_the_load_rolls_it_back_by_compensation(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.errors import AbortRun

    def broken_check(batch: Batch) -> str:
        raise AbortRun("the loaded batch does not add up (simulated)")

    monkeypatch.setattr("examples.data_pipeline.pipeline.check_load", broken_check)
    database = tmp_path / "warehouse.db"
    _, result = run(folder, database)
    assert result.stop_reason == "aborted"
    assert rows_in(database) == 0  # the load happened, and was undone
    assert any(e.kind == "compensation" for e in result.events)


def test_a_missing_source_is_named(folder: Path, tmp_path: Path) -> None:
    batch = Batch(folder, tmp_path / "w.db")
    result = build_agent(batch, ["orders.csv", "../secrets.csv"]).invoke("run")
    missing = next(c for c in result.tool_calls if c["arguments"].get("source") == "../secrets.csv")
    assert "no file '../secrets.csv'" in missing["output"]


def test_the_pipeline_trace_renders(folder: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from podium.cli.main import app

    _, result = run(folder, tmp_path / "warehouse.db")
    shown = CliRunner().invoke(app, ["trace", "show", result.trace_id])
    assert shown.exit_code == 0 and "load_rows" in shown.output and "quality_report" in shown.output
