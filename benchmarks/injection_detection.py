"""Prompt-injection detection by split: the rules, the learned detector, and the two together.

Data nobody on the project wrote (../shared/data, see its README), split once by
podium.evals.injection_data into train (the classifier is fitted on it), tune (its threshold
is chosen on it; promptshield's validation file) and test (held out before any rule was
written or any model trained; only counted here, never read row by row). Benign text of
other kinds: the paragraphs of the installed packages' README and METADATA files screened
as tool output, split by package like the rest; BFCL's questions (never trained or tuned
on) screened as user input. Per-call cost of each
validator on short texts (BFCL questions) and long ones (20,000-character documents).

    PYTHONPATH=. .venv/bin/python benchmarks/injection_detection.py
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from podium.evals.injection_data import SPLITS, load_examples, package_docs
from podium.guardrails.injection import DATA_KINDS
from podium.guardrails.validators import InjectionClassifier, PromptInjection

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
LABEL = {"train": "trained on", "tune": "tuned on (threshold)", "test": "never seen"}


def flags(check: Callable[[str], bool], texts: list[str]) -> list[bool]:
    return [check(text) for text in texts]


def per_call_ms(check: Callable[[str], bool], texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        check(text)
    return (time.perf_counter() - started) * 1000 / len(texts)


def long_texts(paragraphs: list[str], size: int = 20_000) -> list[str]:
    """The paragraphs run together into texts of ``size`` characters."""
    texts, chunk = [], ""
    for paragraph in paragraphs:
        chunk += paragraph + "\n\n"
        if len(chunk) >= size:
            texts.append(chunk[:size])
            chunk = ""
    return texts


def rate(found: list[bool]) -> str:
    return f"{sum(found) / len(found):.3f} ({sum(found)}/{len(found)})" if found else "-"


def main() -> None:
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    docs = package_docs(site / "site-packages")
    examples = load_examples(DATA / "injection") + docs
    rules_input, rules_data = PromptInjection(), PromptInjection(kinds=DATA_KINDS)
    learned = InjectionClassifier()

    def by_rules(kinds: PromptInjection) -> Callable[[str], bool]:
        return lambda text: kinds.validate(text, {}).outcome == "fail"

    def by_model(text: str) -> bool:
        return bool(learned.validate(text, {}).outcome == "fail")

    print(
        "| set | split | n attacks / benign | rules recall | learned recall | either recall |"
        " rules FP | learned FP | either FP |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for source in ("promptshield", "bipia", "package-docs"):
        # promptshield rows are prompts a person sends (every rule kind); BIPIA's and the
        # docs are tool output (the data kinds)
        rules = by_rules(rules_input if source == "promptshield" else rules_data)
        for split in SPLITS:
            rows = [e for e in examples if e.source.startswith(source) and e.split == split]
            attacks = [e.text for e in rows if e.label == 1]
            benign = [e.text for e in rows if e.label == 0]
            ra, rb = flags(rules, attacks), flags(rules, benign)
            la, lb = flags(by_model, attacks), flags(by_model, benign)
            ea = [a or b for a, b in zip(ra, la, strict=True)]
            eb = [a or b for a, b in zip(rb, lb, strict=True)]
            print(
                f"| {source} | {split}: {LABEL[split]} | {len(attacks)} / {len(benign)} | "
                f"{rate(ra)} | {rate(la)} | {rate(ea)} | {rate(rb)} | {rate(lb)} | {rate(eb)} |"
            )
    questions = [
        json.loads(line)["question"][0][-1]["content"]
        for path in sorted((DATA / "bfcl").glob("BFCL_v4_*.json"))
        for line in path.open()
    ]
    print("\n| benign set (never seen) | n | rules FP | learned FP | either FP |")
    print("|---|---:|---:|---:|---:|")
    r, m = flags(by_rules(rules_input), questions), flags(by_model, questions)
    print(
        f"| BFCL questions, as user input | {len(questions)} | {rate(r)} | {rate(m)} | "
        f"{rate([a or b for a, b in zip(r, m, strict=True)])} |"
    )
    long = long_texts([e.text for e in docs if e.split == "test"])
    fresh = InjectionClassifier()  # its own cache, so that no text is scored twice
    fresh.scorer = type(learned.scorer)(learned.scorer.weights, learned.scorer.embedder)

    def cold(text: str) -> bool:
        return bool(fresh.validate(text, {}).outcome == "fail")

    print("\n| validator | short texts: ms per call | 20,000-char texts: ms per call |")
    print("|---|---:|---:|")
    for name, check in (("rules (PromptInjection)", by_rules(rules_data)), ("learned", cold)):
        print(
            f"| {name} | {per_call_ms(check, questions[:600]):.3f} (n=600, mean "
            f"{sum(map(len, questions[:600])) // 600} chars) | "
            f"{per_call_ms(check, long[:30]):.1f} (n={len(long[:30])}) |"
        )


if __name__ == "__main__":
    main()
