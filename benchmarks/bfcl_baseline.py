"""The offline router model on the five BFCL categories, through the eval runner.

Full AST scoring (podium/evals/matching.py) of the first round of calls; irrelevance passes
when no call is made. Reads ../shared/data/bfcl; the data stays there.

    PODIUM_HOME=$(mktemp -d) .venv/bin/python benchmarks/bfcl_baseline.py [--semantic]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from podium.config import Settings
from podium.evals.bfcl import CATEGORIES, load_bfcl
from podium.evals.report import EvalReport
from podium.evals.runner import run_suite
from podium.planner.router import RouterChatModel

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bfcl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--semantic", action="store_true", help="route with MiniLM")
    options = parser.parse_args()
    embedder = None
    if options.semantic:
        from podium.memory.embeddings import MiniLMEmbedder

        embedder = MiniLMEmbedder()
    model = RouterChatModel(embedder=embedder)
    settings = Settings.load()
    print("| category | cases | accuracy | call precision | call recall | p50 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    started = time.perf_counter()
    for category in CATEGORIES:
        suite = load_bfcl(DATA, category)
        report = EvalReport(suite=suite.name, model="router", threshold=0.0)
        asyncio.run(run_suite(suite, model, settings, report, concurrency=4))
        f = report.categories()[-1]
        precision = "-" if f.call_precision is None else f"{f.call_precision:.3f}"
        recall = "-" if f.call_recall is None else f"{f.call_recall:.3f}"
        print(
            f"| {category} | {f.cases} | {f.accuracy:.3f} | {precision} | {recall} | "
            f"{f.latency_p50_ms:.0f} |"
        )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
