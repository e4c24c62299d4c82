"""Throughput of the data-pipeline example on 100,000 generated rows.

The same steps twice on the same data: through podium (scripted planner, tools, checkpoints,
traces, a sub-agent) and as plain function calls in a row (the peer: what a script without
an orchestrator would do). Median of 3 each, interleaved; a fresh database each time.

    .venv/bin/python benchmarks/pipeline_throughput.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples.data_pipeline.generate import generate
from examples.data_pipeline.pipeline import (
    Batch,
    build_agent,
    check_load,
    extract,
    load,
    transform,
    validate,
)

SOURCES = ["orders.csv", "orders.jsonl"]


def plain(folder: Path, database: Path) -> int:
    batch = Batch(folder, database)
    for source in SOURCES:
        extract(batch, source)
    validate(batch)
    transform(batch)
    load(batch)
    check_load(batch)
    return len(batch.rows)


def orchestrated(folder: Path, database: Path) -> int:
    batch = Batch(folder, database)
    result = build_agent(batch, SOURCES).invoke("run the pipeline")
    assert result.stop_reason == "answered", result.answer
    return len(batch.rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    os.environ.setdefault("PODIUM_HOME", str(work / "home"))
    generate(work / "data", options.rows)
    times: dict[str, list[float]] = {"plain functions": [], "podium": []}
    loaded = 0
    for round_ in range(3):
        for name, way in (("plain functions", plain), ("podium", orchestrated)):
            started = time.perf_counter()
            loaded = way(work / "data", work / f"{name.split()[0]}-{round_}.db")
            times[name].append(time.perf_counter() - started)
    base = statistics.median(times["plain functions"])
    print(f"{options.rows} rows generated, {loaded} valid and loaded\n")
    print("| way | seconds (median of 3) | rows per second | vs plain |\n|---|---:|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {options.rows / median:,.0f} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
