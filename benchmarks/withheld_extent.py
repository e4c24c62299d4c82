"""How much of a caught attack still reaches the planner, and how much benign text goes with it.

A screen that flags an attack withholds stretches of it (podium.guardrails.spans); what it
does not withhold reaches the planner. For each detector and each attack set, over the
attacks it catches: how many leave some of their text unwithheld, and the share of the
attack's non-blank characters that pass. BIPIA's attacks sit inside a benign context, so the
share of the context withheld is given too; the benign sets give the share of their
characters withheld. A structured text (JSON and the like) is counted whole when anything
in it is withheld. ``width`` re-wraps each promptshield attack at that many columns
(textwrap.fill of each paragraph), as mail or a terminal would.

    PYTHONPATH=. .venv/bin/python benchmarks/withheld_extent.py [tune|test] [width]
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

from podium.evals.injection_data import Example, load_examples, package_docs
from podium.guardrails import detection
from podium.guardrails.injection import DATA_KINDS
from podium.guardrails.reading import read
from podium.guardrails.spans import Verdict
from podium.guardrails.validators import InjectionClassifier, PromptInjection

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
Detector = tuple[Callable[[Sequence[str]], list[Verdict]], Callable[[str], Verdict] | None]


def wrap(text: str, width: int) -> str:
    return "\n\n".join(textwrap.fill(part, width) for part in text.split("\n\n") if part.strip())


def withheld_mask(text: str, detector: Detector) -> tuple[bool, bytearray]:
    """Whether anything was withheld, and a mask of the characters withheld."""
    judge, whole = detector
    found = detection.screen(text, judge, whole)
    mask = bytearray(len(text))
    values = read(text).values
    plain = len(values) == 1 and values[0].text == text
    for stretch in found.withheld:
        if plain:
            mask[stretch.start : stretch.end] = b"\1" * (stretch.end - stretch.start)
        else:
            mask[:] = b"\1" * len(text)
    return bool(found.withheld), mask


def ink(text: str, mask: bytearray, start: int, end: int) -> tuple[int, int]:
    """Non-blank characters of ``text[start:end]``: (passed, withheld)."""
    passed = withheld = 0
    for index in range(start, end):
        if not text[index].isspace():
            if mask[index]:
                withheld += 1
            else:
                passed += 1
    return passed, withheld


def share(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "-"


def attacks_row(name: str, examples: list[Example], detector: Detector) -> str:
    caught = leaky = leaked = attack_ink = taken = context_ink = 0
    for example in examples:
        text = example.text
        flagged, mask = withheld_mask(text, detector)
        if not flagged:
            continue
        caught += 1
        start = text.find(example.attack) if example.attack else 0
        end = start + len(example.attack) if example.attack else len(text)
        passed, withheld = ink(text, mask, start, end)
        leaky += passed > 0
        leaked, attack_ink = leaked + passed, attack_ink + passed + withheld
        for a, b in ((0, start), (end, len(text))):
            passed, withheld = ink(text, mask, a, b)
            taken, context_ink = taken + withheld, context_ink + passed + withheld
    return (
        f"| {name} | {len(examples)} | {caught} | {leaky} | {share(leaked, attack_ink)} "
        f"| {share(taken, context_ink)} |"
    )


def benign_row(name: str, texts: list[str], detector: Detector) -> str:
    flagged_count = taken = total = 0
    for text in texts:
        flagged, mask = withheld_mask(text, detector)
        flagged_count += flagged
        passed, withheld = ink(text, mask, 0, len(text))
        taken, total = taken + withheld, total + passed + withheld
    return f"| {name} | {len(texts)} | {flagged_count} | | | {share(taken, total)} |"


def main() -> None:
    split = sys.argv[1] if len(sys.argv) > 1 else "test"
    width = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    examples = [e for e in load_examples(DATA / "injection") if e.split == split]
    if width:
        examples = [
            dataclasses.replace(e, text=wrap(e.text, width))
            if e.label == 1 and e.source == "promptshield"
            else e
            for e in examples
        ]
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    docs = [e.text for e in package_docs(site / "site-packages") if e.split == split]
    rules, learned = PromptInjection(kinds=DATA_KINDS), InjectionClassifier()
    detectors: dict[str, Detector] = {
        "rules": (lambda pieces: [rules._verdict(p) for p in pieces], rules._verdict),
        "learned": (learned._judge, None),
    }
    print(f"split {split}, promptshield attacks wrapped at {width or 'no'} columns")
    print("| set | n | flagged | some of it passed | attack passed | other text withheld |")
    print("|---|---:|---:|---:|---:|---:|")
    for det, detector in detectors.items():
        for source in ("promptshield", "bipia"):
            chosen = [e for e in examples if e.source == source and e.label == 1]
            print(attacks_row(f"{det}: {source} attacks", chosen, detector))
        benign = {
            "promptshield benign": [
                e.text for e in examples if e.source == "promptshield" and e.label == 0
            ],
            "BIPIA contexts": [e.text for e in examples if e.source.startswith("bipia-")],
            "package docs": docs,
        }
        for name, texts in benign.items():
            print(benign_row(f"{det}: {name}", texts, detector))


if __name__ == "__main__":
    main()
