"""CPU per call of the injection screens, on short and long texts, for comparing two trees.

Short texts: BFCL questions (one line each); long ones: 20,000-character runs of the
installed packages' README paragraphs (the test split of podium.evals.injection_data).
Prints one JSON line; run it with each tree first on PYTHONPATH, alternating:

    git archive OLD podium | tar -x -C /tmp/old
    for i in 1 2 3; do for t in /tmp/old .; do
      PYTHONPATH=$t .venv/bin/python benchmarks/screen_cost.py
    done; done
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from injection_detection import long_texts

import podium
from podium.evals.injection_data import package_docs
from podium.guardrails.injection import DATA_KINDS
from podium.guardrails.validators import InjectionClassifier, PromptInjection

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def ms_per_call(check: Callable[[str], object], texts: list[str]) -> float:
    started = time.process_time()
    for text in texts:
        check(text)
    return (time.process_time() - started) * 1000 / len(texts)


def main() -> None:
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    long = long_texts([e.text for e in package_docs(site / "site-packages") if e.split == "test"])
    questions = [
        json.loads(line)["question"][0][-1]["content"]
        for path in sorted((DATA / "bfcl").glob("BFCL_v4_*.json"))
        for line in path.open()
    ][:600]
    rules, learned = PromptInjection(kinds=DATA_KINDS), InjectionClassifier()

    def cold(text: str) -> object:  # a fresh cache: no text scored before
        learned.scorer = type(learned.scorer)(learned.scorer.weights, learned.scorer.embedder)
        return learned.validate(text, {})

    def by_rules(text: str) -> object:
        return rules.validate(text, {})

    ms_per_call(by_rules, questions[:50])  # (warm: patterns compiled, modules loaded)
    figures = {
        "tree": str(Path(podium.__file__).parent),
        "rules_short": ms_per_call(by_rules, questions),
        "rules_long": ms_per_call(by_rules, long[:30]),
        "learned_short": ms_per_call(cold, questions[:200]),
        "learned_long": ms_per_call(cold, long[:30]),
    }
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
