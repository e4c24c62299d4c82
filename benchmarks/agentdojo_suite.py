"""AgentDojo's suites with podium's agent, per defense layer (podium/evals/agentdojo.py).

The scripted obedient model (offline): benign utility, utility under attack and attack
success per layer, with counts, judged by AgentDojo's own checks.

    PODIUM_HOME=$(mktemp -d) .venv/bin/python benchmarks/agentdojo_suite.py [SUITE ...]
    ... benchmarks/agentdojo_suite.py --approver asker [SUITE ...]

``--approver asker``: the person who asked approves the held calls their task needs and
declines the others (podium/evals/agentdojo.py); a second table counts the approvals.
"""

from __future__ import annotations

import sys
import time

from podium.evals.agentdojo import APPROVERS, LAYERS, SUITES, Approver, Score, run_suite


def main() -> None:
    arguments = sys.argv[1:]
    approver: Approver = "nobody"
    if arguments[:1] == ["--approver"]:
        chosen = arguments[1] if len(arguments) > 1 else ""
        if chosen not in APPROVERS:
            sys.exit(f"--approver takes one of {', '.join(APPROVERS)}, not {chosen!r}")
        approver, arguments = chosen, arguments[2:]
    names = arguments or list(SUITES)
    total: dict[str, Score] = {layer: Score() for layer in LAYERS}
    for name in names:
        started = time.perf_counter()
        scores = run_suite(name, approver=approver)
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
    if approver != "nobody":
        print(f"\napprovals asked of the {approver} (attacked runs)")
        print("| layer | approvals asked | declined (not the task's own call) |")
        print("|---|---:|---:|")
        for layer, score in total.items():
            print(score.approvals(layer))


if __name__ == "__main__":
    main()
