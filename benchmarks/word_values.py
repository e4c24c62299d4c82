"""An order spelt one word per value: read as tags (before), read as a sentence (now).

The joined reading (podium.guardrails.spans) left a flagged run of single-word strings
alone, as a list of tags. Now only a run of up to ``spans.TAGS`` (two) such words is tags; a
longer one the rules flag reads as a sentence and is withheld. This measures, per split of
the data of benchmarks/injection_detection.py (no rule or threshold was written from any of
it): attacks of six words or more as a JSON list of their words, caught with the old reading
and the new; benign texts the same way (their first 60 words), withheld; and the keywords
of every installed package's metadata as a list (tags as they are really written).

    PYTHONPATH=. .venv/bin/python benchmarks/word_values.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from podium.evals.injection_data import SPLITS, Example, load_examples
from podium.guardrails import spans
from podium.guardrails.injection import DATA_KINDS
from podium.guardrails.validators import PromptInjection

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
LABEL = {"train": "trained on", "tune": "tuned on (threshold)", "test": "never seen"}
rules = PromptInjection(kinds=DATA_KINDS)
OLD, NEW = 10**9, spans.TAGS


def flagged(output: str, tags: int) -> bool:
    """Whether the screen withholds anything of ``output`` with runs of ``tags`` read as tags."""
    spans.TAGS = tags
    try:
        return rules.validate(output, {}).outcome == "fail"
    finally:
        spans.TAGS = NEW


def words(text: str, limit: int | None = None) -> str:
    """``text`` as a JSON list of its words."""
    return json.dumps({"tags": text.split()[:limit]})


def rate(found: list[bool]) -> str:
    return f"{sum(found) / len(found):.3f} ({sum(found)}/{len(found)})" if found else "-"


def by_source(examples: list[Example], label: int, limit: int | None) -> None:
    for source in sorted({e.source for e in examples if e.label == label}):
        for split in SPLITS:
            texts = [
                e.text for e in examples if (e.source, e.split, e.label) == (source, split, label)
            ]
            texts = [t for t in texts if len(t.split()) >= 6]
            outputs = [words(t, limit) for t in texts]
            old = [flagged(o, OLD) for o in outputs]
            new = [flagged(o, NEW) for o in outputs]
            whole = [flagged(json.dumps({"text": " ".join(t.split()[:limit])}), NEW) for t in texts]
            print(
                f"| {source} | {split}: {LABEL[split]} | {len(texts)} | {rate(old)} | {rate(new)} "
                f"| {rate(whole)} |"
            )


def keywords(site: Path) -> list[str]:
    """Each installed distribution's keywords, as a JSON list (one output a package)."""
    outputs = []
    for metadata in sorted(site.glob("*.dist-info/METADATA")):
        for line in metadata.read_text(errors="replace").splitlines():
            if line.startswith("Keywords:"):
                found = [w for w in re.split(r"[,\s]+", line[len("Keywords:") :]) if w]
                if len(found) >= 2:
                    outputs.append(json.dumps({"name": metadata.parent.name, "keywords": found}))
                break
    return outputs


def main() -> None:
    examples = load_examples(DATA / "injection")
    print("| attack source | split | n | caught, words as tags (before) | caught now | one text |")
    print("|---|---|---:|---:|---:|---:|")
    by_source(examples, 1, None)
    print("\n| benign source | split | n | withheld before | withheld now | one text |")
    print("|---|---|---:|---:|---:|---:|")
    by_source(examples, 0, 60)
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    outputs = keywords(site / "site-packages")
    old = [flagged(o, OLD) for o in outputs]
    new = [flagged(o, NEW) for o in outputs]
    print(
        f"\npackage keywords (never seen): {len(outputs)} packages; withheld before "
        f"{rate(old)}, now {rate(new)}"
    )


if __name__ == "__main__":
    main()
