"""Dates in a request, written the way a parameter's description asks.

"January 1, 2021", "15th October,2023", "01-01-1980" become "2021-01-01" or whatever the
description names ("Format: yyyy-mm-dd", "in MM-DD-YYYY format").
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Each alternative is bounded: a scan stays linear on long text. A date without a year
# ("to April 8th") takes the year of the date before it.
_WRITTEN = re.compile(
    rf"\b(?P<m1>{_MONTH})[\s.]{{0,2}}(?P<d1>{_DAY})(?:,?\s{{0,2}}(?P<y1>\d{{4}}))?\b"
    rf"|\b(?P<d2>{_DAY})(?:\s+of)?\s{{1,2}}(?P<m2>{_MONTH})(?:,?\s{{0,2}}(?P<y2>\d{{4}}))?\b"
    rf"|\b(?P<y3>\d{{4}}),?\s{{1,2}}(?P<m3>{_MONTH})\s{{1,2}}(?P<d3>{_DAY})\b"
    rf"|\b(?P<m4>{_MONTH})\s{{1,2}}(?P<y4>\d{{4}})\b",
    re.IGNORECASE,
)
_NUMERIC = re.compile(
    r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b|\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b"
)
_FORMAT = re.compile(
    r"\b(y{2,4}|m{1,2}|d{1,2})([-/.])(y{2,4}|m{1,2}|d{1,2})(?:\2(y{2,4}|m{1,2}|d{1,2}))?\b", re.I
)
_WORDS_FORMAT = re.compile(r"\b(year|month|day)-(year|month|day)-(year|month|day)\b", re.I)
RELATIVE = re.compile(
    r"\b(?:today|tonight|tomorrow|yesterday|(?:this|next|last|coming)\s+"
    rf"(?:week|weekend|month|year|{'|'.join(WEEKDAYS)}))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FoundDate:
    """A date in the text: where it is, and its year, month and day (day 0: a month)."""

    start: int
    end: int
    year: int
    month: int
    day: int


def _month(name: str) -> int:
    return MONTHS[name.lower().rstrip(".")]


def dates(text: str) -> list[FoundDate]:
    """The dates written in ``text``, in reading order."""
    found: list[FoundDate] = []
    year = 0
    for m in _WRITTEN.finditer(text):
        g = m.groupdict()
        key = next(k for k in "1234" if g[f"m{k}"])
        day = int(re.sub(r"\D", "", g[f"d{key}"])) if g.get(f"d{key}") else 0
        year = int(g[f"y{key}"]) if g.get(f"y{key}") else year
        if year:
            found.append(FoundDate(m.start(), m.end(), year, _month(g[f"m{key}"]), day))
    for m in _NUMERIC.finditer(text):
        if m.group(1):
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        else:
            first, second, year = int(m.group(4)), int(m.group(5)), int(m.group(6))
            month, day = (second, first) if first > 12 else (first, second)
        found.append(FoundDate(m.start(), m.end(), year, month, day))
    valid = [d for d in found if _valid(d)]
    return sorted(valid, key=lambda d: d.start)


def _valid(found: FoundDate) -> bool:
    try:
        datetime.date(found.year, found.month, found.day or 1)
    except ValueError:
        return False
    return True


def date_format(description: str) -> str:
    """The format a description asks for ("yyyy-mm-dd"), ISO when it names none."""
    match = _FORMAT.search(description)
    if match:
        return match.group().lower()
    worded = _WORDS_FORMAT.search(description)
    if worded:
        return "-".join(
            {"year": "yyyy", "month": "mm", "day": "dd"}[w.lower()] for w in worded.groups()
        )
    return "yyyy-mm-dd"


def written(found: FoundDate, fmt: str) -> str:
    """``found`` written in ``fmt``; a month without a day leaves the day part out."""
    values = {"y": f"{found.year:04d}", "m": f"{found.month:02d}", "d": f"{found.day:02d}"}
    fields = re.findall(r"[ymd]+", fmt)
    separator = re.search(r"[-/.]", fmt)
    shown = [
        values[f[0]][-2:] if f[0] == "y" and len(f) == 2 else values[f[0]]
        for f in fields
        if f[0] != "d" or found.day
    ]
    return (separator.group() if separator else "-").join(shown)


def weekday(text: str) -> str | None:
    """The first day of the week named in ``text`` ("Saturday")."""
    match = re.search(r"\b(" + "|".join(WEEKDAYS) + r")s?\b", text, re.IGNORECASE)
    return match.group(1).capitalize() if match else None
