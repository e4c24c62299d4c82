"""A labeled personal-data set generated with Faker, and its scoring.

Entities sit inside ordinary sentences; near-misses are not personal data (order numbers,
versions, dates, bad checksums).

Faker is a development dependency; this module imports it only when a set is made.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podium.redaction import PERSONAL, find

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")
SENTENCES = (
    "Please update the record: {}.",
    "The customer wrote back from {} yesterday afternoon.",
    "{} is what we have on file, can you confirm?",
    "Ticket notes - contact detail given was {} (verified).",
    "According to the form, the value is {}; nothing else changed.",
    "Hi team, use {} for the follow-up call next week.",
)


@dataclass(frozen=True)
class LabeledText:
    """One sentence and the kind of personal data it holds (None for a near-miss)."""

    text: str
    kind: str | None
    value: str


def _broken_luhn(number: str) -> str:
    last = (int(number[-1]) + 1 + random.randrange(8)) % 10
    return number[:-1] + str(last)


def make_set(per_kind: int = 200, seed: int = 7) -> list[LabeledText]:
    """``per_kind`` sentences for each kind of personal data and each kind of near-miss."""
    from faker import Faker  # type: ignore[import-untyped,unused-ignore]

    random.seed(seed)
    fakers = [Faker(locale) for locale in LOCALES]
    for index, faker in enumerate(fakers):
        faker.seed_instance(seed + index)
    us = fakers[0]
    makers: dict[str, Callable[[Any], str]] = {
        "email": lambda f: f.email(),
        "phone": lambda f: f.phone_number(),
        "card": lambda f: f.credit_card_number(),
        "iban": lambda f: f.iban(),
        "ssn": lambda f: us.ssn(),
        "ip": lambda f: f.ipv4(),
        "ipv6": lambda f: f.ipv6(),
    }
    near_misses: dict[str, Callable[[Any], str]] = {
        "order number": lambda f: f"order #{f.bothify('??-####-####').upper()}",
        "version": lambda f: (
            f"version {random.randint(0, 9)}.{random.randint(0, 30)}.{random.randint(0, 99)}"
        ),
        "date": lambda f: f.date(pattern=random.choice(["%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y"])),
        "bad card": lambda f: _broken_luhn(f.credit_card_number()),
        "bad iban": lambda f: _broken_luhn(f.iban()),
        "price": lambda f: f"${random.randint(1, 99_999):,}.{random.randint(0, 99):02d}",
        "time": lambda f: f.time(),
    }
    labeled: list[LabeledText] = []
    for kinds, positive in ((makers, True), (near_misses, False)):
        for kind, make in kinds.items():
            for _ in range(per_kind):
                value = make(random.choice(fakers))
                text = random.choice(SENTENCES).format(value)
                labeled.append(LabeledText(text, kind if positive else None, value))
    return labeled


@dataclass(frozen=True)
class KindScore:
    """Detection of one kind: true positives, false negatives and false positives."""

    found: int
    missed: int
    false: int

    @property
    def recall(self) -> float:
        """Share of the kind's entities found."""
        return self.found / max(1, self.found + self.missed)

    @property
    def precision(self) -> float:
        """Share of detections of the kind that were right."""
        return self.found / max(1, self.found + self.false)


def score(labeled: list[LabeledText]) -> dict[str, KindScore]:
    """Per kind: an entity counts as found when a detection of its kind covers it."""
    counts = {kind: [0, 0, 0] for kind in PERSONAL}
    for item in labeled:
        start = item.text.index(item.value)
        end = start + len(item.value)
        hit = False
        for kind, s, e in find(item.text, PERSONAL):
            covers = item.kind == kind and s <= start + 1 and e >= end - 1
            hit = hit or covers
            if not covers:
                counts[kind][2] += 1
        if item.kind is not None:
            counts[item.kind][0 if hit else 1] += 1
    return {kind: KindScore(*values) for kind, values in counts.items()}
