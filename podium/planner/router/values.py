"""Values found by what they look like.

Units ("in km/h"), quotes a word names ("the game 'Valorant'"), dates in the format a
parameter asks for.
"""

from __future__ import annotations

import re
from typing import Any

from podium.planner.router import dates as dates
from podium.planner.router import spans as spans
from podium.planner.router.extract import Extraction
from podium.planner.router.patterns import QUOTED
from podium.planner.router.text import STOP_WORDS, name_parts, stem, words

# Starts only where a run of digits, dots and commas starts (linear time); group 1 is the
# unit after the run's last digit, as from the run's first digit.
_UNIT_AFTER = re.compile(r"(?<![\d.,])[.,]*+\d(?:[\d.,]*\d)?\s?([A-Za-z°µ][A-Za-z/^°]*)")
_UNIT_IN = re.compile(r"\bin\s+([A-Za-z°µ][A-Za-z/^°]*)")


def unit_value(name: str, spec: dict[str, Any], text: str, required: bool) -> str | None:
    """A unit: the one asked for last ("... in Celsius", "in km/h").

    A unit converted from is the one a number is written in ("4 inches"); else the unit of
    "how many teaspoons"; a required unit nobody asked for is the first number's.
    """
    after = [m.group(1) for m in _UNIT_AFTER.finditer(text) if words(m.group(1))]
    described = str(spec.get("description", "")).lower()
    if spans.side(name) == "start" or "from" in name.lower():
        return after[0] if after else None
    asked = [
        m.group(1)
        for m in _UNIT_IN.finditer(text)
        if m.group(1).lower() not in STOP_WORDS
        and (m.group(1) in after or m.group(1).islower() or m.group(1).lower() in described)
    ]
    if asked:
        return asked[-1]
    how_many = re.search(r"\bhow many\s+([A-Za-z]+)", text, re.IGNORECASE)  # "how many ounces"
    if how_many:
        return how_many.group(1)
    return after[0] if after and required else None


def claims(text: str, names_: list[str]) -> dict[str, str]:
    """Quotes a parameter's own word comes right before: "the game 'Valorant'" -> game."""
    claims: dict[str, str] = {}
    for match in QUOTED.finditer(text):
        quote = next(g for g in match.groups() if g)
        before = set(words(" ".join(text[max(0, match.start() - 40) : match.start()].split()[-3:])))
        for name in names_:
            parts = {stem(p) for p in name_parts(name) if len(p) > 2}
            if name not in claims and parts & before - {"name"}:
                claims[name] = quote
                break
    return claims


def date_arguments(
    order: list[str], properties: dict[str, Any], found: Extraction
) -> dict[str, Any]:
    """Dates for date parameters, written as each one's description asks.

    A day parameter takes a day of the week. The numbers of a date taken are no longer free.
    """
    chosen: dict[str, Any] = {}
    written = dates.dates(found.text)
    for name in order:
        spec = properties.get(name, {})
        parts = set(name_parts(name))
        if spec.get("type", "string") != "string":
            continue
        description = str(spec.get("description", ""))
        if parts & {"date", "birthday", "dob"}:
            if written:
                where = spans.side(name)
                one = written.pop(-1 if where == "end" and len(written) > 1 else 0)
                chosen[name] = dates.written(one, dates.date_format(description))
                inside = range(one.start, one.end)
                found.numbers = [(p, n) for p, n in found.numbers if p not in inside]
                found.strong += 1
            elif relative := dates.RELATIVE.search(found.text):
                chosen[name] = relative.group()
        elif parts & {"day", "weekday"} and (day := dates.weekday(found.text)):
            chosen[name] = day
    found.taken.update(str(v) for v in chosen.values())
    return chosen
