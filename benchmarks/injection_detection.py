"""Prompt-injection detection: recall on promptshield attacks, false positives on benign text.

Data nobody on the project wrote, read from ../shared/data: promptshield's validation split
(MIT; 1,271 prompts, 106 attacks) and the user questions of BFCL (Apache-2.0; benign tool
requests), screened as user input (every kind of rule). Also, as tool output would be (the
data kinds: no "command" rules), the paragraphs of the README and METADATA files of the
packages installed in .venv: real documents, many about LLMs, nobody here wrote.

    .venv/bin/python benchmarks/injection_detection.py [--misses 10]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from podium.guardrails.injection import DATA_KINDS
from podium.guardrails.validators import PromptInjection

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", type=int, default=0, help="show this many missed attacks")
    options = parser.parse_args()
    validator = PromptInjection()
    rows = [json.loads(line) for line in (DATA / "injection" / "promptshield_val.jsonl").open()]
    benign_bfcl = [
        json.loads(line)["question"][0][-1]["content"]
        for path in sorted((DATA / "bfcl").glob("BFCL_v4_*.json"))
        for line in path.open()
    ]
    started = time.perf_counter()
    flagged = [validator.validate(r["prompt"], {}).outcome == "fail" for r in rows]
    attacks = [f for f, r in zip(flagged, rows, strict=True) if r["label"] == 1]
    benign = [f for f, r in zip(flagged, rows, strict=True) if r["label"] == 0]
    bfcl = [validator.validate(q, {}).outcome == "fail" for q in benign_bfcl]
    per_call_ms = (time.perf_counter() - started) * 1000 / (len(rows) + len(benign_bfcl))
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    files = sorted(site.glob("site-packages/*.dist-info/METADATA"))
    files += sorted(site.glob("site-packages/**/*.md"))
    paragraphs = [
        p
        for f in files
        for p in re.split(r"\n\s*\n", f.read_text(errors="ignore"))
        if len(p.strip()) > 40
    ]
    data = PromptInjection(kinds=DATA_KINDS)
    docs = [data.validate(p, {}).outcome == "fail" for p in paragraphs]
    print("| set | n | flagged | rate |\n|---|---:|---:|---:|")
    print(
        f"| promptshield attacks (recall) | {len(attacks)} | {sum(attacks)} | "
        f"{sum(attacks) / len(attacks):.3f} |"
    )
    print(
        f"| promptshield benign (false positives) | {len(benign)} | {sum(benign)} | "
        f"{sum(benign) / len(benign):.3f} |"
    )
    print(
        f"| BFCL questions (false positives) | {len(bfcl)} | {sum(bfcl)} | "
        f"{sum(bfcl) / len(bfcl):.3f} |"
    )
    print(
        f"| package docs as tool output (false positives) | {len(docs)} | {sum(docs)} | "
        f"{sum(docs) / len(docs):.3f} |"
    )
    print(f"\nvalidator time per text: {per_call_ms:.3f} ms")
    missed = Counter(
        r["attack_type"] for f, r in zip(flagged, rows, strict=True) if r["label"] == 1 and not f
    )
    print("missed attacks by type:", dict(missed.most_common()))
    shown = [r["prompt"] for f, r in zip(flagged, rows, strict=True) if r["label"] == 1 and not f]
    for prompt in shown[: options.misses]:
        print("  missed:", prompt[:140].replace("\n", " "))


if __name__ == "__main__":
    main()
