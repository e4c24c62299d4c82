"""Personal data detection on a Faker-generated labeled set (podium/evals/pii.py).

Seven locales; emails, phones, cards (valid Luhn), IBANs (valid checksum), US SSNs, IPv4 and
IPv6 inside ordinary sentences, and near-misses that are not personal data: order numbers,
versions, dates, cards and IBANs with a broken checksum, prices, times. The seed is not one
the patterns were tuned on.

    .venv/bin/python benchmarks/pii_detection.py [--per-kind 1000] [--seed 2027]
"""

from __future__ import annotations

import argparse
import time

from podium.evals.pii import make_set, score
from podium.redaction import PERSONAL, find


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-kind", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2027)
    options = parser.parse_args()
    labeled = make_set(options.per_kind, options.seed)
    started = time.perf_counter()
    for item in labeled:
        find(item.text, PERSONAL)
    per_text_ms = (time.perf_counter() - started) * 1000 / len(labeled)
    scores = score(labeled)
    near_misses = sum(1 for item in labeled if item.kind is None)
    print(f"{len(labeled)} sentences ({near_misses} near-misses), seed {options.seed}\n")
    print("| kind | found | missed | false | recall | precision |\n|---|---:|---:|---:|---:|---:|")
    for kind, result in scores.items():
        print(
            f"| {kind} | {result.found} | {result.missed} | {result.false} | "
            f"{result.recall:.4f} | {result.precision:.4f} |"
        )
    print(f"\ndetection time per sentence: {per_text_ms:.3f} ms")


if __name__ == "__main__":
    main()
