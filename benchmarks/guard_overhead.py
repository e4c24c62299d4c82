"""What screening one tool call costs, per validator.

The same validators three ways on the same texts (tool outputs of 200-2,000 characters):
guardrails-ai's Guard.validate (one Guard holding them all), each validator's validate()
called directly in one pass, and podium's Screens.run (all at once on daemon threads, with
the timeout). Interleaved, best of 5 rounds.

    .venv/bin/python benchmarks/guard_overhead.py
"""

from __future__ import annotations

import random
import time

from podium.guardrails.injection import DATA_KINDS
from podium.guardrails.screens import Check, Screens
from podium.guardrails.validators import PII, PromptInjection, Secrets, SizeLimit

WORDS = (
    "order shipped customer invoice total refund status page build deploy report the a of "
    "to and in for on with at by from ana@example.com +44 20 7946 0958 4111 1111 1111 1111 "
    "version 2.4.1 2024-05-01 ignore notes previous draft"
).split()


def texts(count: int) -> list[str]:
    random.seed(5)
    return [
        " ".join(random.choice(WORDS) for _ in range(random.randint(30, 300))) for _ in range(count)
    ]


def main() -> None:
    from guardrails import Guard

    validators = [SizeLimit(max_chars=20_000), PromptInjection(kinds=DATA_KINDS), Secrets(), PII()]
    # The same validators for the Guard, told to record failures rather than raise.
    guard = Guard().use(
        SizeLimit(max_chars=20_000, on_fail="noop"),
        PromptInjection(kinds=DATA_KINDS, on_fail="noop"),
        Secrets(on_fail="noop"),
        PII(on_fail="noop"),
    )
    screens = Screens(output=[Check(v, "fix") for v in validators])
    sample = texts(300)

    def with_guard() -> None:
        for text in sample:
            guard.validate(text)

    def direct() -> None:
        for text in sample:
            for validator in validators:
                validator.validate(text, {})

    def screened() -> None:
        for text in sample:
            screens.run("output", "tool", text)

    ways = {"Guard.validate": with_guard, "validators direct": direct, "Screens.run": screened}
    best = {name: float("inf") for name in ways}
    for _ in range(5):
        for name, way in ways.items():
            started = time.perf_counter()
            way()
            best[name] = min(best[name], time.perf_counter() - started)
    per_call = {name: best[name] * 1000 / len(sample) for name in ways}
    print(f"{len(validators)} validators, {len(sample)} texts, best of 5\n")
    print("| way | per call (ms) | per validator (ms) | vs Guard.validate |\n|---|---:|---:|---:|")
    for name, ms in per_call.items():
        print(
            f"| {name} | {ms:.3f} | {ms / len(validators):.3f} | "
            f"{ms / per_call['Guard.validate']:.2f}x |"
        )


if __name__ == "__main__":
    main()
