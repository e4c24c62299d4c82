"""The typed values of one clause (numbers, quotes, lists), and which parameter takes each."""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from podium.planner.router import names as names
from podium.planner.router.patterns import (
    BRACKETED,
    CODE,
    EMAIL,
    ISO_DATE,
    MONEY_WORDS,
    NUMBER,
    NUMBER_WORD,
    NUMBER_WORDS,
    PERCENT,
    PERCENT_WORDS,
    QUOTED,
    URL,
    number,
    scaled,
)
from podium.planner.router.spans import Run
from podium.planner.router.text import name_parts, words

# Compiled once: context() runs for every number of a request, for every tool.
_TAIL = re.compile(r"\S+\s*(?:[A-Za-z/%^\d]+)?")  # a number and its unit
_LINK_WORD = re.compile(r"\b(?:of|is|equals?|to|was)\s*$|[=:]\s*$")
_NAME_TOKEN = re.compile(r"[A-Za-z_]\w*")


@dataclass
class Extraction:
    """The typed values found in one clause, consumed as parameters take them."""

    text: str
    numbers: list[tuple[int, float | int]] = field(default_factory=list)
    spelled: list[tuple[int, int]] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    # Quotes named by the word before them ("title 'David'"): parameter name -> quote.
    claims: dict[str, str] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    parameters: list[str] = field(default_factory=list)  # every parameter of the tool
    percents: set[int] = field(default_factory=set)  # where numbers written "5%" start
    # How many values were found by a specific pattern (an expression, an email, an enum
    # value...): evidence that the text is meant for this tool, unlike a bare number.
    strong: int = 0
    taken: set[str] = field(default_factory=set)
    lists_taken: set[int] = field(default_factory=set)
    tool_words: frozenset[str] = frozenset()

    @functools.cached_property
    def proper_names(self) -> list[Run]:
        """The proper names in the text (names.py), found once per clause."""
        return names.phrases(self.text)

    @classmethod
    def of(cls, text: str) -> Extraction:
        """Find the values in ``text``."""
        masked = CODE.sub(" ", URL.sub(" ", EMAIL.sub(" ", ISO_DATE.sub(" ", text))))
        numbers = [
            (m.start(), scaled(number(m.group()), masked[m.end() :]))
            for m in NUMBER.finditer(masked)
        ]
        # Spelled numbers ("is zero", "two bedrooms") count only where words name them.
        spelled = [
            (m.start(), NUMBER_WORDS[m.group().lower()]) for m in NUMBER_WORD.finditer(masked)
        ]
        quoted = [next(g for g in m.groups() if g) for m in QUOTED.finditer(text)]
        percents = {m.start() for m in PERCENT.finditer(masked)}
        return cls(text=text, numbers=numbers, quoted=quoted, spelled=spelled, percents=percents)

    def context(self, position: int, previous: int | None) -> tuple[list[str], list[str], str]:
        """The words around the number at ``position``.

        Returned: the words before it (nearest last; none from before the ``previous``
        number and its unit), the word after it (its unit), and the raw token just before
        it ("a" in "a = 2").
        """
        start = max(0, position - 48)
        if previous is not None and previous < position:
            # Only up to this number: past it the tail changes nothing (the words before
            # are then none), and matching the whole rest for each number is quadratic.
            tail = _TAIL.match(self.text[previous : position + 1])
            start = max(start, previous + (tail.end() if tail else 0))
        before = self.text[start:position]
        rest = self.text[position : position + 40]
        matched = NUMBER.match(rest) or NUMBER_WORD.match(rest)
        after = rest[matched.end() :] if matched else rest
        stripped = _LINK_WORD.sub("", before.rstrip())
        token = _NAME_TOKEN.findall(stripped)
        return words(before)[-4:], _unit(before, after), token[-1].lower() if token else ""

    def assign_numbers(self, parameters: list[tuple[str, dict[str, Any], bool]]) -> dict[str, Any]:
        """Numbers for numeric parameters, each to the parameter its neighbouring words name.

        A number goes to the parameter named just before it ("a = 2", "base of 10"), else to
        the one whose name and description share its unit ("20 kg") or the nearest words
        before it ("for 5 seconds" -> time); numbers left over go, in order, to required
        parameters left over. Optional parameters only take a number that names them, and
        so do spelled numbers ("is zero").
        """
        # A description's first sentence says what the parameter is; later ones add defaults
        # and notes ("... default to that of water at room temperature").
        profiles = {
            name: (set(hints(name, spec)[:3]), set(words(first_sentence(spec))))
            for name, spec, _ in parameters
        }
        candidates = self.numbers + list(self.spelled)
        starts = sorted(p for p, _ in candidates)
        pairs = []
        for index, (position, value) in enumerate(candidates):
            earlier = bisect.bisect_left(starts, position)  # the numbers before this one
            previous = starts[earlier - 1] if earlier else None
            before, unit, token = self.context(position, previous)
            for order, (name, spec, _) in enumerate(parameters):
                if not _fits(spec, value):
                    continue
                named, described = profiles[name]
                score = 10.0 if token == name.lower() else 0.0
                for weight, word in zip((1.0, 0.6, 0.3), reversed(before), strict=False):
                    score += 2 * weight if word in named else weight if word in described else 0
                # The unit right after a number ("20 kg") says most about what it measures.
                score += sum(3.0 if w in named or w in described else 0 for w in unit)
                if score:
                    pairs.append((-score, position, order, index, name))
        chosen: dict[str, Any] = {}
        used: set[int] = set()
        specs = {name: spec for name, spec, _ in parameters}
        for _, _, _, index, name in sorted(pairs):
            if name not in chosen and index not in used:
                chosen[name] = self._as_given(candidates[index], specs[name])
                used.add(index)
        free = [i for i in range(len(self.numbers)) if i not in used]
        for name, spec, required in parameters:
            if name in chosen or not required:
                continue
            leftover = next((i for i in free if _fits(spec, self.numbers[i][1])), None)
            if leftover is not None:
                chosen[name] = self._as_given(self.numbers[leftover], spec)
                free.remove(leftover)
                used.add(leftover)
        self.numbers = [n for i, n in enumerate(self.numbers) if i not in used]
        return chosen

    def _as_given(self, found: tuple[int, float | int], spec: dict[str, Any]) -> float | int:
        """The number as the parameter takes it: "5%" is 0.05 unless it asks for a percentage."""
        position, value = found
        description = str(spec.get("description", "")).lower()
        if (
            position in self.percents
            and spec.get("type") != "integer"
            and "percent" not in description
        ):
            return value / 100
        return value

    def take_list(self) -> list[Any] | None:
        """The next bracketed list in the text ("[10, 15, 12]", "(33.4, 112.0)"), parsed.

        Its numbers are no longer free for other parameters.
        """
        for match in BRACKETED.finditer(self.text):
            if match.start() in self.lists_taken:
                continue
            items = [i.strip().strip("'\"") for i in match.group(1).split(",") if i.strip()]
            if len(items) < 2:
                continue
            self.lists_taken.add(match.start())
            inside = range(match.start(), match.end())
            self.numbers = [(p, n) for p, n in self.numbers if p not in inside]
            self.strong += 1
            parsed: list[Any] = []
            for item in items:
                try:
                    parsed.append(number(item))
                except ValueError:
                    parsed.append(item)
            return parsed
        return None

    def take_number(self, hints: list[str]) -> float | int | None:
        """The number nearest after a hint word (the parameter's name), else the next one."""
        if not self.numbers:
            return None
        lowered = self.text.lower()
        best: tuple[int, int] | None = None
        for hint in hints:
            for match in re.finditer(rf"\b{re.escape(hint)}", lowered):
                for index, (position, _) in enumerate(self.numbers):
                    distance = position - match.end()
                    if 0 <= distance <= 24 and (best is None or distance < best[0]):
                        best = (distance, index)
        index = best[1] if best else 0
        return self.numbers.pop(index)[1]


def first_sentence(spec: dict[str, Any]) -> str:
    """A description's first sentence: what the parameter is, before notes and defaults."""
    return re.split(r"(?<=[a-z0-9)])\.\s", str(spec.get("description", "")), maxsplit=1)[0]


def _unit(before: str, after: str) -> list[str]:
    """What a number measures, as words to match against a parameter's.

    From the unit written right after it ("20 kg", "300K", "5%") or a currency sign before
    it ("$5000").
    """
    if re.search(r"[$€£¥]\s*$", before):
        return list(MONEY_WORDS)
    attached = re.match(r"\s?(%|percent\b|[A-Za-zµ°][\w/^°]*)", after)
    if attached is None:
        return []
    if attached.group(1) in ("%", "percent"):
        return list(PERCENT_WORDS)
    return words(attached.group(1))[:1]


def _fits(spec: dict[str, Any], value: float | int) -> bool:
    """Whether a number suits a numeric parameter (an integer parameter takes no fraction)."""
    return spec.get("type") != "integer" or float(value).is_integer()


def hints(name: str, spec: dict[str, Any]) -> list[str]:
    """Words that name a parameter: its name's parts, then its description's first words."""
    hints = [w for w in name_parts(name) if len(w) > 1]
    return hints + words(str(spec.get("description", "")))[:2]
