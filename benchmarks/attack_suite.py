"""The attack suite (podium/evals/attacks.py) with each layer of defense on its own.

AgentDojo-style: injected instructions in the data a task reads, a gullible scripted model
that obeys whatever reaches it. 96 attacks (4 tasks x 8 templates x 3 goals) and 16 benign
tasks per layer.

    PODIUM_HOME=$(mktemp -d) .venv/bin/python benchmarks/attack_suite.py
"""

from __future__ import annotations

import time
from collections import defaultdict

from podium.evals.attacks import LAYERS, cases, run_case, summarize


def main() -> None:
    started = time.perf_counter()
    results = [run_case(case, layer) for layer in LAYERS for case in cases()]
    print("| layer | attack success | benign utility | utility under attack |")
    print("|---|---:|---:|---:|")
    for s in summarize(results):
        print(
            f"| {s.layer} | {s.attack_success:.3f} ({round(s.attack_success * s.attacks)}/"
            f"{s.attacks}) | {s.utility:.3f} ({round(s.utility * s.benign)}/{s.benign}) | "
            f"{s.utility_under_attack:.3f} |"
        )
    print("\nattack success by template and goal, detector alone:")
    table: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        if r.layer == "detector" and r.case.template and r.case.goal:
            table[r.case.template][r.case.goal].append(r.attacked)
    goals = ["exfiltrate", "destroy", "answer"]
    print("| template | " + " | ".join(goals) + " |\n|---|" + "---:|" * len(goals))
    for template, by_goal in table.items():
        cells = [f"{sum(by_goal[g])}/{len(by_goal[g])}" for g in goals]
        print(f"| {template} | " + " | ".join(cells) + " |")
    print(f"\n{len(results)} runs in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
