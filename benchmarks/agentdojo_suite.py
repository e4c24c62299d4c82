"""AgentDojo's suites with podium's agent, per defense layer (podium/evals/agentdojo.py).

The scripted obedient model (offline): benign utility, utility under attack and attack
success per layer, with counts, judged by AgentDojo's own checks.

    PODIUM_HOME=$(mktemp -d) .venv/bin/python benchmarks/agentdojo_suite.py [SUITE ...]
"""

from __future__ import annotations

import sys
import time

from podium.evals.agentdojo import LAYERS, SUITES, Score, run_suite


def main() -> None:
    names = sys.argv[1:] or list(SUITES)
    total = {layer: Score() for layer in LAYERS}
    for name in names:
        started = time.perf_counter()
        scores = run_suite(name)
        print(f"\n{name} ({time.perf_counter() - started:.0f} s)")
        print("| layer | benign utility | utility under attack | attack success |")
        print("|---|---:|---:|---:|")
        for layer, score in scores.items():
            print(score.row(layer))
            for key in vars(score):
                setattr(total[layer], key, getattr(total[layer], key) + getattr(score, key))
    print(f"\nall of {', '.join(names)}")
    print("| layer | benign utility | utility under attack | attack success |")
    print("|---|---:|---:|---:|")
    for layer, score in total.items():
        print(score.row(layer))


if __name__ == "__main__":
    main()
