"""Tracing overhead per tool step: the audit log on vs off, measured alternately.

Alternating the two configurations, several rounds, cancels the drift of a shared machine
better than one long run of each. durability=exit, so checkpoint noise does not hide the
sink's cost.

    .venv/bin/python benchmarks/tracing_overhead.py [--rounds 4] [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from step_overhead import measure, podium_runner


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    os.environ["PODIUM_HOME"] = tempfile.mkdtemp()
    on, off = [], []
    for _ in range(options.rounds):
        on.append(await measure(podium_runner(True, 20, "exit", audit=True), 20, options.runs))
        off.append(await measure(podium_runner(True, 20, "exit", audit=False), 20, options.runs))
    with_log, without = statistics.median(on), statistics.median(off)
    print("| audit log | ms per step (median of rounds) | rounds |\n|---|---:|---|")
    print(f"| on | {with_log:.2f} | {', '.join(f'{x:.2f}' for x in on)} |")
    print(f"| off | {without:.2f} | {', '.join(f'{x:.2f}' for x in off)} |")
    print(f"\noverhead: {with_log - without:+.2f} ms per step ({with_log / without - 1:+.1%})")


if __name__ == "__main__":
    asyncio.run(main())
