"""How long a check slow to read holds its pool worker after the screen has decided.

The default output screen, given tool outputs its injection rules read slowly (spaced-out
letters, as one text and as a JSON list of 25 such values): when the screen answers, and
when every worker of the check pool is free again. Alongside, the rules' own time on the
same text with no deadline (what a worker was held for before podium's checks stopped at
their screen's timeout). Synthetic text, no data set: nothing here is tuned on.

    PYTHONPATH=. .venv/bin/python benchmarks/check_deadline.py
"""

from __future__ import annotations

import json
import time

from podium.guardrails.injection import DATA_KINDS
from podium.guardrails.screens import Screens
from podium.guardrails.validators import PromptInjection
from podium.workers import POOL


def spaced(chars: int) -> str:
    """Spaced-out letters, ``chars`` long."""
    return " ".join(("lorem ipsum dolor " * (chars // 36 + 1)).replace(" ", "")[: chars // 2])


def held(screens: Screens, text: str) -> tuple[float, float, str]:
    """Seconds until the screen answers, until every worker is free, and the decision."""
    started = time.monotonic()
    _, decision = screens.run("output", "fetch", text)
    answered = time.monotonic() - started
    while POOL._idle < POOL._workers:
        time.sleep(0.005)
    return answered, time.monotonic() - started, "; ".join(decision.reasons[-1:])


def main() -> None:
    """Print one row per text."""
    screens = Screens.default()
    texts = {
        "spaced letters, one text (972 KB)": spaced(972_000),
        "25 values of spaced letters, JSON (792 KB)": json.dumps([spaced(38_000)] * 25),
    }
    print(f"screen timeout {screens.timeout:g} s")
    print("| output | screen answers (s) | workers free (s) | rules unbounded (CPU s) | reason |")
    print("|---|---:|---:|---:|---|")
    for name, text in texts.items():
        answered, free, reason = held(screens, text)
        started = time.process_time()
        PromptInjection(kinds=DATA_KINDS).validate(text, {})
        alone = time.process_time() - started
        print(f"| {name} | {answered:.2f} | {free:.2f} | {alone:.2f} | {reason} |")


if __name__ == "__main__":
    main()
