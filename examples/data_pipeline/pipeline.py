"""The data pipeline: extract CSV and JSON lines, validate, transform, load into SQLite.

Rows that fail the pydantic schema are quarantined with their reasons (quarantine.jsonl);
the load is one transaction; a failure after it ends the run (AbortRun) and the
compensation deletes the loaded batch; a sub-agent summarizes the data-quality issues.

A re-run over the same input is idempotent: orders already loaded with the same values are
skipped (and reported as skipped); an order id already loaded with other values stops the
load before it writes anything, since a loaded order is never overwritten.

    python -m examples.data_pipeline.pipeline --rows 100000 --folder pipeline-data

Exit codes: 0 the pipeline ran to its end; 1 it stopped (a failed load or check, undone);
2 bad input (a folder that cannot be written, or one holding another number of rows).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from pydantic import BaseModel, Field, ValidationError

from examples.terminal import bad_input
from podium.agent import Agent
from podium.config import Limits
from podium.errors import AbortRun
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import Tool, tool

USD_TO_EUR = 0.92


class OrderRow(BaseModel):
    """One valid order."""

    order_id: int = Field(gt=0)
    customer: str = Field(min_length=1)
    amount: float = Field(ge=0)
    currency: Literal["EUR", "USD"]
    ordered_at: date


@dataclass
class Batch:
    """What one run has read, kept, set aside and written."""

    folder: Path
    database: Path
    progress: bool = False
    raw: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    valid: list[OrderRow] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    loaded: list[tuple[Any, ...]] = field(default_factory=list)  # the rows this run wrote
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def set_aside(self, where: str, row: Any, reason: str) -> None:
        """Quarantine one row, with where it came from and why."""
        self.quarantined.append({"where": where, "row": row, "reason": reason})


def _bar(batch: Batch, total: int, label: str) -> Any:
    from rich.progress import Progress

    progress = Progress(transient=True, disable=not batch.progress)
    progress.start()
    return progress, progress.add_task(label, total=total)


def extract(batch: Batch, source: str) -> str:
    """Read the rows of ``source`` (a CSV or JSON-lines file in the batch's folder)."""
    path = (batch.folder / source).resolve()
    if not path.is_relative_to(batch.folder.resolve()) or not path.is_file():
        raise FileNotFoundError(f"no file {source!r} in {batch.folder}")
    before, unreadable = len(batch.raw), 0
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            batch.raw += [
                (f"{source}:{n}", dict(r)) for n, r in enumerate(csv.DictReader(handle), 2)
            ]
    else:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            try:
                batch.raw.append((f"{source}:{number}", json.loads(line)))
            except json.JSONDecodeError as error:
                unreadable += 1
                batch.set_aside(f"{source}:{number}", line, f"not valid JSON: {error.msg}")
    return f"read {len(batch.raw) - before} rows from {source} ({unreadable} unreadable)"


def validate(batch: Batch) -> str:
    """Check every row against the schema; set aside the ones that fail, with the reason."""
    progress, task = _bar(batch, len(batch.raw), "validate")
    for index, (where, row) in enumerate(batch.raw):
        try:
            batch.valid.append(OrderRow.model_validate(row))
        except ValidationError as error:
            first = error.errors()[0]
            batch.set_aside(where, row, f"{'.'.join(map(str, first['loc']))}: {first['msg']}")
        if index % 5000 == 0:
            progress.update(task, completed=index)
    progress.stop()
    quarantine = batch.folder / "quarantine.jsonl"
    with quarantine.open("w") as out:
        for item in batch.quarantined:
            out.write(json.dumps(item, default=str) + "\n")
    return f"{len(batch.valid)} valid rows, {len(batch.quarantined)} set aside in {quarantine.name}"


def transform(batch: Batch) -> str:
    """Amounts in euros, and the month of each order."""
    batch.rows = [
        (
            row.order_id,
            row.customer,
            round(row.amount * (USD_TO_EUR if row.currency == "USD" else 1.0), 2),
            row.ordered_at.strftime("%Y-%m"),
            batch.batch_id,
        )
        for row in batch.valid
    ]
    return f"{len(batch.rows)} rows in euros with their month"


TABLE = (
    "CREATE TABLE IF NOT EXISTS orders (order_id INTEGER PRIMARY KEY, customer TEXT,"
    " amount_eur REAL, month TEXT, batch TEXT)"
)


def _already_loaded(
    db: sqlite3.Connection, rows: list[tuple[Any, ...]]
) -> dict[int, tuple[Any, ...]]:
    """(customer, amount, month) of every order among ``rows`` the database holds already."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS incoming (order_id INTEGER)")
    db.execute("DELETE FROM temp.incoming")
    db.executemany("INSERT INTO temp.incoming VALUES (?)", ((row[0],) for row in rows))
    found = db.execute(
        "SELECT o.order_id, o.customer, o.amount_eur, o.month FROM orders o"
        " JOIN temp.incoming USING (order_id)"
    )
    return {int(row[0]): tuple(row[1:]) for row in found}


def load(batch: Batch) -> str:
    """Write the new rows into SQLite in one transaction (all or nothing).

    Orders loaded before with the same values are skipped; one loaded with other values
    stops the load before it writes anything.
    """
    try:
        with sqlite3.connect(batch.database) as db:
            db.execute(TABLE)
            before = _already_loaded(db, batch.rows)
            changed = [row for row in batch.rows if before.get(row[0], row[1:4]) != row[1:4]]
            if changed:
                raise AbortRun(
                    f"the load wrote nothing: {len(changed)} order(s) were loaded before with"
                    f" other values (first: order {changed[0][0]}); a loaded order is never"
                    " overwritten. Fix the input, or load into a new database"
                )
            fresh = [row for row in batch.rows if row[0] not in before]
            db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", fresh)
    except sqlite3.Error as error:  # the transaction rolled back: nothing was written
        raise AbortRun(f"the load failed and wrote nothing: {error}") from None
    batch.loaded = fresh
    skipped = len(batch.rows) - len(fresh)
    return (
        f"loaded {len(fresh)} new rows (batch {batch.batch_id}); {skipped} already loaded, skipped"
    )


def unload(batch: Batch) -> None:
    """Compensation of a load: delete the batch's rows."""
    with sqlite3.connect(batch.database) as db:
        db.execute("DELETE FROM orders WHERE batch = ?", (batch.batch_id,))


def check_load(batch: Batch) -> str:
    """Compare what the database holds for the batch with what was meant to be loaded."""
    with sqlite3.connect(batch.database) as db:
        count, total = db.execute(
            "SELECT count(*), coalesce(sum(amount_eur), 0) FROM orders WHERE batch = ?",
            (batch.batch_id,),
        ).fetchone()
    expected = round(sum(r[2] for r in batch.loaded), 2)
    if count != len(batch.loaded) or abs(total - expected) > 0.01:
        raise AbortRun(f"the loaded batch does not add up ({count} rows, {total:.2f} EUR)")
    return f"{count} rows, {total:.2f} EUR: as expected"


def quality_agent(batch: Batch) -> Agent:
    """A sub-agent that reads the quarantine and summarizes the data-quality issues."""

    @tool
    def quarantine_reasons() -> str:
        """Count the set-aside rows by reason."""
        reasons = Counter(item["reason"].split(":")[0] for item in batch.quarantined)
        return "; ".join(f"{reason}: {n}" for reason, n in reasons.most_common()) or "none"

    model = ScriptedChatModel(  # a scripted summarizer: one lookup, then its summary
        turns=[
            calls(call("quarantine_reasons")),
            lambda messages: f"Rows set aside by field: {messages[-1].content}",
        ],
        model="scripted-quality-summarizer",
    )
    return Agent([quarantine_reasons], model=model, guards=None)


def pipeline_tools(batch: Batch) -> list[Tool]:
    """The pipeline's steps as tools over ``batch``."""

    @tool
    def extract_file(source: str) -> str:
        """Read the rows of a CSV or JSON-lines file."""
        return extract(batch, source)

    @tool
    def validate_rows() -> str:
        """Validate the rows read; set aside the bad ones with reasons."""
        return validate(batch)

    @tool
    def transform_rows() -> str:
        """Convert amounts to euros and add the month."""
        return transform(batch)

    @tool(side_effects=True, compensate=lambda: unload(batch))
    def load_rows() -> str:
        """Load the rows into the database in one transaction."""
        return load(batch)

    @tool
    def check_loaded() -> str:
        """Check that the loaded batch adds up."""
        return check_load(batch)

    summarizer = quality_agent(batch).as_tool("quality_report", "Summarize data quality.")
    return [extract_file, validate_rows, transform_rows, load_rows, check_loaded, summarizer]


def pipeline_planner(sources: list[str]) -> ScriptedChatModel:
    """A scripted planner: the steps in order (extracts at once), then the report."""

    def report(messages: list[BaseMessage]) -> AIMessage:
        results = [str(m.content) for m in messages if isinstance(m, ToolMessage)]
        return AIMessage(content="Pipeline done. " + " | ".join(results[-4:]))

    return ScriptedChatModel(
        turns=[
            calls(*(call("extract_file", f"x{i}", source=s) for i, s in enumerate(sources))),
            calls(call("validate_rows")),
            calls(call("transform_rows")),
            calls(call("load_rows")),
            calls(call("check_loaded"), call("quality_report", request="summarize")),
            report,
        ],
        model="scripted-pipeline-planner",
    )


def build_agent(batch: Batch, sources: list[str]) -> Agent:
    """The pipeline's agent (no guards on row data: it is the pipeline's own input)."""
    return Agent(
        pipeline_tools(batch),
        model=pipeline_planner(sources),
        guards=None,
        limits=Limits(max_steps=10, max_seconds=600),
    )


def prepare(folder: Path, rows: int | None) -> int | None:
    """Make sure ``folder`` holds a data set of ``rows`` rows; the exit code if it cannot."""
    from examples.data_pipeline.generate import generate, rows_held

    if rows is not None and rows < 1:
        return bad_input(f"--rows {rows}: a data set needs at least one row", "give --rows 1000")
    if (folder / "orders.csv").is_file():
        held = rows_held(folder)
        if rows is not None and rows != held:
            return bad_input(
                f"{folder} already holds a data set of {held} rows, not {rows}",
                f"run without --rows to use it, or start over: remove {folder} (its data set"
                " and warehouse.db) or give another --folder",
            )
    else:
        try:
            generate(folder, 100_000 if rows is None else rows)
        except OSError as error:
            return bad_input(
                f"cannot write the data set into {folder}: {error.strerror or error}",
                "give a folder you can write, like --folder pipeline-data",
            )
    if not os.access(folder, os.W_OK):
        return bad_input(
            f"cannot write into {folder} (quarantine.jsonl and warehouse.db go there)",
            "give a folder you can write, like --folder pipeline-data",
        )
    return None


def main(argv: list[str] | None = None) -> int:
    """Generate a data set (if needed), run the pipeline over it; the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, help="rows to generate (default 100000; an existing set is kept)"
    )
    parser.add_argument("--folder", type=Path, default=Path("pipeline-data"))
    options = parser.parse_args(argv)
    refused = prepare(options.folder, options.rows)
    if refused is not None:
        return refused
    batch = Batch(options.folder, options.folder / "warehouse.db", progress=True)
    result = build_agent(batch, ["orders.csv", "orders.jsonl"]).invoke("run the pipeline")
    print(result.answer)
    print(f"trace: podium trace show {result.trace_id}")
    return 0 if result.stop_reason == "answered" else 1


if __name__ == "__main__":
    sys.exit(main())
