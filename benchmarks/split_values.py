"""An injection split across the values of a structured tool output: read alone, read together.

The model reads a JSON tool output's values in a row, so an order split between two of them
("Please ignore" in one, "all previous instructions" in the next) is one order. The output
screen reads each value on its own and then the values joined (podium.guardrails.spans).
This measures, per split of the data of benchmarks/injection_detection.py (no rule or
threshold was written from any of it; the joined reading has no threshold of its own):

- attacks, each cut at its middle word into two values, and into three: caught when the
  values are read only one at a time (before), caught now, and caught as one text (what
  the joined reading can at best recover);
- benign text packed the same way, several texts to an output (package docs by package, and
  the benign rows of each source in fives): outputs withheld in part, before and now.

    PYTHONPATH=. .venv/bin/python benchmarks/split_values.py
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from podium.evals.injection_data import SPLITS, Example, load_examples, package_docs
from podium.guardrails.injection import DATA_KINDS
from podium.guardrails.reading import read
from podium.guardrails.validators import PromptInjection

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
LABEL = {"train": "trained on", "tune": "tuned on (threshold)", "test": "never seen"}
rules = PromptInjection(kinds=DATA_KINDS)


def cut(text: str, parts: int) -> list[str]:
    """``text`` cut at word boundaries into ``parts`` pieces of about equal words."""
    words = text.split(" ")
    size = max(1, len(words) // parts)
    pieces = [" ".join(words[i * size : (i + 1) * size]) for i in range(parts - 1)]
    return [*pieces, " ".join(words[(parts - 1) * size :])]


def as_messages(pieces: list[str]) -> str:
    """Pieces as the texts of one JSON tool output's messages, a sender between each two."""
    return json.dumps({"messages": [{"from": "a@b.example", "text": p} for p in pieces]})


def as_fields(pieces: list[str]) -> str:
    """Pieces as the fields of one e-mail, one after another (subject, body, signature)."""
    names = ["subject", "body", "signature"] if len(pieces) <= 3 else range(len(pieces))
    return json.dumps({"id": 7, **{str(n): p for n, p in zip(names, pieces, strict=False)}})


def alone(output: str) -> bool:
    """Flagged with every value read on its own only (the screen before the joined reading)."""
    return any(rules._verdict(value.text).flagged for value in read(output).values)


def now(output: str) -> bool:
    return rules.validate(output, {}).outcome == "fail"


def rate(found: list[bool]) -> str:
    return f"{sum(found) / len(found):.3f} ({sum(found)}/{len(found)})" if found else "-"


def attacks(examples: list[Example]) -> None:
    print(
        "| source | split | n | shape | pieces | read alone (before) | read together (now) "
        "| one text |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for source in sorted({e.source for e in examples if e.label == 1}):
        for split in SPLITS:
            texts = [e.text for e in examples if (e.source, e.split, e.label) == (source, split, 1)]
            texts = [t for t in texts if len(t.split(" ")) >= 6]
            whole = [now(t) for t in texts]
            for shape, parts in [(as_fields, 2), (as_fields, 3), (as_messages, 2)]:
                outputs = [shape(cut(t, parts)) for t in texts]
                print(
                    f"| {source} | {split}: {LABEL[split]} | {len(texts)} | {shape.__name__} "
                    f"| {parts} | {rate([alone(o) for o in outputs])} | "
                    f"{rate([now(o) for o in outputs])} | {rate(whole)} |"
                )


def benign(examples: list[Example]) -> None:
    print("\n| benign source | split | outputs (texts) | withheld before | withheld now | ms now |")
    print("|---|---|---:|---:|---:|---:|")
    for source in sorted({e.source for e in examples if e.label == 0}):
        for split in SPLITS:
            rows = [e for e in examples if (e.source, e.split, e.label) == (source, split, 0)]
            groups: dict[str, list[str]] = defaultdict(list)
            for index, row in enumerate(rows):  # docs by package, the rest in fives
                key = row.kind if source == "package-docs" else str(index // 5)
                groups[key].append(row.text)
            outputs = [as_messages(texts) for texts in groups.values()]
            before = [alone(o) for o in outputs]
            started = time.perf_counter()
            found = [now(o) for o in outputs]
            ms = (time.perf_counter() - started) * 1000 / max(1, len(outputs))
            print(
                f"| {source} | {split}: {LABEL[split]} | {len(outputs)} ({len(rows)}) | "
                f"{rate(before)} | {rate(found)} | {ms:.1f} |"
            )


def main() -> None:
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    examples = load_examples(DATA / "injection") + package_docs(site / "site-packages")
    attacks(examples)
    benign(examples)


if __name__ == "__main__":
    main()
