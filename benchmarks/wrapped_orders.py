"""Orders wrapped over lines: detection and false positives with the lines read joined, or not.

Mail, a PDF's text and terminals wrap a long sentence over lines; an order wrapped so has no
line that says it whole. podium.guardrails.encodings.unwrapped reads the lines of a sentence
joined (the rules' readings, and each piece of a text that joins lines, for both
detectors). This runs the test split of podium.evals.injection_data (held out: never read row
by row) and two benign sets as tool output, each as given and re-wrapped at 30, 50 and 72
columns (textwrap.fill of each paragraph), with that reading off (``unwrapped`` replaced by
the identity; the markup reading, JSON Lines and the rest of the change stay) and on.
Benign sets: the installed packages' README/METADATA paragraphs (test split) and 40-line
pieces of the standard library's own source (never used for anything else).

    PYTHONPATH=. .venv/bin/python benchmarks/wrapped_orders.py [tune|test]
"""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from podium.evals.injection_data import load_examples, package_docs
from podium.guardrails import injection, spans
from podium.guardrails.injection import DATA_KINDS
from podium.guardrails.validators import InjectionClassifier, PromptInjection

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
WIDTHS = (30, 50, 72)


def wrap(text: str, width: int) -> str:
    return "\n\n".join(textwrap.fill(part, width) for part in text.split("\n\n") if part.strip())


def source_pieces(limit: int = 2000, lines: int = 40) -> list[str]:
    lib = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    pieces: list[str] = []
    for path in sorted(lib.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace").split("\n")
        pieces += ["\n".join(text[i : i + lines]) for i in range(0, len(text), lines)]
        if len(pieces) >= limit:
            break
    return [p for p in pieces[:limit] if p.strip()]


def rate(found: list[bool]) -> str:
    return f"{sum(found) / len(found):.3f} ({sum(found)}/{len(found)})" if found else "-"


def main() -> None:
    split = sys.argv[1] if len(sys.argv) > 1 else "test"  # tune: where a choice is made
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    examples = [e for e in load_examples(DATA / "injection") if e.split == split]
    docs = [e.text for e in package_docs(site / "site-packages") if e.split == split]
    rules, learned = PromptInjection(kinds=DATA_KINDS), InjectionClassifier()
    checks: dict[str, Callable[[str], bool]] = {
        "rules": lambda text: rules.validate(text, {}).outcome == "fail",
        "learned": lambda text: bool(learned.validate(text, {}).outcome == "fail"),
    }
    joined = injection.unwrapped

    def with_reading(on: bool) -> None:
        injection.unwrapped = spans.unwrapped = joined if on else (lambda text: text)

    sets: list[tuple[str, int, list[str]]] = []
    for source in ("promptshield", "bipia"):
        for label in (1, 0):
            texts = [e.text for e in examples if e.source.startswith(source) and e.label == label]
            sets.append((source, label, texts))
    sets.append(("package docs", 0, docs))
    if split == "test":
        sets.append(("stdlib source", 0, source_pieces()))
    print(f"| set ({split} split) | shape | n | detector | off | on |")
    print("|---|---|---:|---|---:|---:|")
    started = time.perf_counter()
    for name, label, texts in sets:
        what = "attacks" if label else "benign"
        shapes = [("as given", texts)]
        if name != "stdlib source":  # (code is not re-wrapped)
            shapes += [(f"wrapped at {w}", [wrap(t, w) for t in texts]) for w in WIDTHS]
        for shape, shaped in shapes:
            found = {}
            for on in (False, True):
                with_reading(on)
                found[on] = {d: [check(t) for t in shaped] for d, check in checks.items()}
            for detector in (*checks, "either"):
                row = {
                    on: (
                        found[on][detector]
                        if detector != "either"
                        else [a or b for a, b in zip(*found[on].values(), strict=True)]
                    )
                    for on in (False, True)
                }
                print(
                    f"| {name} {what} | {shape} | {len(shaped)} | {detector} | "
                    f"{rate(row[False])} | {rate(row[True])} |"
                )
    with_reading(True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
