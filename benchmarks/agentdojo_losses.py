"""Which AgentDojo user tasks lose utility under a defense layer, and why (per run).

Runs the suites as benchmarks/agentdojo_suite.py does and writes every run's Trial (utility,
security, the reasons of declined calls, the guard decisions that withheld something) as
JSON lines, then prints, per layer, the user tasks that lost utility with the reasons.

    PODIUM_HOME=$(mktemp -d) .venv/bin/python benchmarks/agentdojo_losses.py OUT.jsonl SUITE...
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections import defaultdict

from podium.evals.agentdojo import LAYERS, SUITES, Trial, run_suite


def main() -> None:
    out, names = sys.argv[1], sys.argv[2:] or list(SUITES)
    trials: list[Trial] = []
    with open(out, "w", encoding="utf-8") as file:
        for name in names:
            start = len(trials)
            scores = run_suite(name, LAYERS, trials=trials)
            for trial in trials[start:]:
                file.write(json.dumps(dataclasses.asdict(trial)) + "\n")
            file.flush()
            print(f"\n{name}\n| layer | benign utility | utility under attack | attack success |")
            print("|---|---:|---:|---:|")
            print("\n".join(score.row(layer) for layer, score in scores.items()), flush=True)
    lost: dict[tuple[str, str, str], list[Trial]] = defaultdict(list)
    for trial in trials:
        if not trial.utility:
            lost[(trial.suite, trial.layer, trial.user_task)].append(trial)
    for (suite, layer, task), runs in sorted(lost.items()):
        benign = any(t.injection_task is None for t in runs)
        reasons = sorted({r[:160] for t in runs for r in t.declined + t.flagged})
        print(f"{suite} {layer} {task}: {len(runs)} lost (benign lost: {benign})")
        for reason in reasons[:6]:
            print(f"    {reason}")


if __name__ == "__main__":
    main()
