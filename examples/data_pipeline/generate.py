"""A generated order data set: half CSV, half JSON lines, with a share of malformed rows."""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

FIELDS = ("order_id", "customer", "amount", "currency", "ordered_at")


def _row(index: int, bad: bool) -> dict[str, str]:
    row = {
        "order_id": str(index + 1),
        "customer": f"C-{random.randint(1, 5000)}",
        "amount": f"{random.uniform(1, 900):.2f}",
        "currency": random.choice(["EUR", "USD"]),
        "ordered_at": (date(2026, 1, 1) + timedelta(days=random.randint(0, 300))).isoformat(),
    }
    if bad:  # the faults real exports have
        fault = random.choice(["amount", "currency", "date", "customer", "negative"])
        if fault == "amount":
            row["amount"] = "twelve"
        elif fault == "currency":
            row["currency"] = "XXX"
        elif fault == "date":
            row["ordered_at"] = "2026-13-45"
        elif fault == "customer":
            row["customer"] = ""
        else:
            row["amount"] = "-5.00"
    return row


def generate(folder: Path, rows: int = 100_000, bad_share: float = 0.01, seed: int = 7) -> None:
    """Write ``orders.csv`` and ``orders.jsonl`` into ``folder``, ``rows`` in all."""
    random.seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    half = rows // 2
    with (folder / "orders.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        for index in range(half):
            writer.writerow(_row(index, random.random() < bad_share))
    with (folder / "orders.jsonl").open("w") as out:
        for index in range(half, rows):
            row = _row(index, random.random() < bad_share)
            out.write(json.dumps(row) + "\n")
        out.write("{this line is not json\n")  # one broken line, as exports have


def rows_held(folder: Path) -> int:
    """How many rows the data set in ``folder`` holds (a line that is not JSON is no row)."""
    with (folder / "orders.csv").open(newline="") as handle:
        count = sum(1 for _ in csv.DictReader(handle))
    jsonl = folder / "orders.jsonl"
    if jsonl.is_file():
        with jsonl.open() as handle:
            count += sum(_is_json(line) for line in handle if line.strip())
    return count


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True
