"""The data pipeline: extract CSV and JSON lines, validate, transform, load into SQLite.

Rows that fail the pydantic schema are quarantined with their reasons (quarantine.jsonl);
the load is one transaction; a failure after it ends the run (AbortRun) and the
compensation deletes the loaded batch; a sub-agent summarizes the data-quality issues.

    python -m examples.data_pipeline.pipeline --rows 100000 --folder pipeline-data
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from pydantic import BaseModel, Field, ValidationError

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


def load(batch: Batch) -> str:
    """Write the rows into SQLite in one transaction (all or nothing)."""
    try:
        with sqlite3.connect(batch.database) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS orders (order_id INTEGER PRIMARY KEY, customer TEXT,"
                " amount_eur REAL, month TEXT, batch TEXT)"
            )
            db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", batch.rows)
    except sqlite3.Error as error:  # the transaction rolled back: nothing was written
        raise AbortRun(f"the load failed and wrote nothing: {error}") from None
    return f"loaded {len(batch.rows)} rows (batch {batch.batch_id})"


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
    expected = round(sum(r[2] for r in batch.rows), 2)
    if count != len(batch.rows) or abs(total - expected) > 0.01:
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


def main() -> None:
    """Generate a data set (if needed) and run the pipeline over it."""
    from examples.data_pipeline.generate import generate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--folder", type=Path, default=Path("pipeline-data"))
    options = parser.parse_args()
    if not (options.folder / "orders.csv").is_file():
        generate(options.folder, options.rows)
    batch = Batch(options.folder, options.folder / "warehouse.db", progress=True)
    result = build_agent(batch, ["orders.csv", "orders.jsonl"]).invoke("run the pipeline")
    print(result.answer)
    print(f"trace: podium trace show {result.trace_id}")


if __name__ == "__main__":
    main()
