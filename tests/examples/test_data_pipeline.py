"""The data-pipeline example, offline (its planner is scripted: the steps are fixed)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from examples.data_pipeline.generate import generate
from examples.data_pipeline.pipeline import Batch, build_agent
from podium.results import RunResult

SOURCES = ["orders.csv", "orders.jsonl"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    generate(tmp_path / "data", rows=3000, bad_share=0.05, seed=3)
    return tmp_path / "data"


def run(folder: Path, database: Path) -> tuple[Batch, RunResult]:
    batch = Batch(folder, database)
    return batch, build_agent(batch, SOURCES).invoke("run the pipeline")


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
    _, again = run(folder, database)  # the same order ids again: the primary key refuses
    assert again.stop_reason == "aborted"
    assert "the load failed and wrote nothing: UNIQUE constraint failed" in again.answer
    assert rows_in(database) == before


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
