"""Withholding the flagged part of a text, not the whole: segments, their verdicts, the rest.

A text is read into its values (podium.guardrails.reading); each value is cut into segments
(its lines, long lines at sentence ends); a detector judges each segment. A flagged segment
is withheld with what belongs to it: the markup element around it (``<INFORMATION>...``),
the segment it introduces (one ending in ':'), and neighbours the detector finds borderline.
What is withheld is replaced by a note naming why, and the text is rebuilt in its own form.
The values are then read together, one after another as the model reads them, so that an
order split across two of them is found too (``_read_together``); that second reading
costs about as much again as the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from podium.guardrails.reading import Value, read

MAX_SEGMENT = 400
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_OPEN_TAG = re.compile(r"<([A-Za-z][\w-]{0,30})(?:\s[^<>]{0,200})?>")


@dataclass(frozen=True)
class Verdict:
    """A detector's word on one segment: flagged (with why), borderline, or neither."""

    flagged: bool
    reason: str = ""
    borderline: bool = False


@dataclass(frozen=True)
class Withheld:
    """One withheld stretch of a value: where, and why."""

    path: str
    start: int
    end: int
    reason: str
    text: str = field(default="", repr=False)  # what was withheld (for evidence, not the planner)

    def describe(self) -> str:
        """One line of evidence."""
        return f"{self.path} [{self.start}:{self.end}] withheld: {self.reason}"


Judge = Callable[[Sequence[str]], list[Verdict]]


ELEMENT_REACH = 2_000  # how far the element holding a flagged stretch is looked for


def segments(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each non-blank line of ``text``; long lines cut at sentence ends."""
    found: list[tuple[int, int]] = []
    position = 0
    for line in text.split("\n"):
        start, end = position, position + len(line)
        position = end + 1
        if not line.strip():
            continue
        if len(line) <= MAX_SEGMENT:
            found.append((start, end))
            continue
        piece = start
        for match in _SENTENCE_END.finditer(line):
            cut = start + match.end()
            if cut - piece >= MAX_SEGMENT // 2:
                found.append((piece, cut))
                piece = cut
        while end - piece > MAX_SEGMENT:  # no sentence end: cut by length
            found.append((piece, piece + MAX_SEGMENT))
            piece += MAX_SEGMENT
        if piece < end:
            found.append((piece, end))
    return found


def _element(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the innermost markup element holding ``start:end``, or the span itself.

    Looked for within ``ELEMENT_REACH`` characters each way: searched from every tag of the
    whole text, many flagged lines in tags took cubic time.
    """
    best = (start, end)
    for match in _OPEN_TAG.finditer(text, max(0, start - ELEMENT_REACH), start + 1):
        close = text.find(f"</{match.group(1)}>", max(end, match.end()), end + ELEMENT_REACH)
        if match.start() <= start and close >= end - 1 and close != -1:
            best = (match.start(), close + len(match.group(1)) + 3)
    return best


def _regions(text: str, spans: list[tuple[int, int]], verdicts: list[Verdict]) -> list[Withheld]:
    """The stretches to withhold: flagged segments grown to what belongs to them, merged."""
    regions: list[tuple[int, int, str]] = []
    for index, verdict in enumerate(verdicts):
        if not verdict.flagged:
            continue
        first = last = index
        while first > 0 and verdicts[first - 1].borderline:
            first -= 1
        while last + 1 < len(spans) and (
            verdicts[last + 1].borderline
            or text[spans[last][0] : spans[last][1]].rstrip().endswith(":")
        ):
            last += 1
        start, end = _element(text, spans[first][0], spans[last][1])
        regions.append((start, end, verdict.reason))
    regions.sort()
    merged: list[tuple[int, int, str]] = []
    for start, end, reason in regions:
        if merged and start <= merged[-1][1] + 1:
            previous = merged[-1]
            why = previous[2] if reason in previous[2] else f"{previous[2]}; {reason}"
            merged[-1] = (previous[0], max(end, previous[1]), why)
        else:
            merged.append((start, end, reason))
    return [Withheld("", start, end, reason) for start, end, reason in merged]


def note(reason: str) -> str:
    """What the planner reads in place of a withheld stretch."""
    return f"[withheld by a guard: {reason}]"


def withhold(
    text: str, judge: Judge, whole: Callable[[str], Verdict] | None = None
) -> tuple[str, list[Withheld]]:
    """``text`` with what ``judge`` flags withheld, and what was withheld.

    ``whole`` judges each value at once first (cheaper than segment by segment); only a
    value it flags is judged segment by segment, and when no segment is to blame (the
    pattern spans several), the value is withheld whole. ``whole`` then judges the values
    left read together. Without ``whole`` every segment is judged, value by value only.
    Returns the text unchanged and no stretches when nothing is flagged.
    """
    reading = read(text)
    replaced: dict[str, str] = {}
    withheld: list[Withheld] = []
    for value in reading.values:
        overall = whole(value.text) if whole is not None else None
        if overall is not None and not overall.flagged:
            continue
        spans = segments(value.text)
        verdicts = judge([value.text[a:b] for a, b in spans]) if spans else []
        regions = _regions(value.text, spans, verdicts)
        if not regions and overall is not None:
            regions = [Withheld("", 0, len(value.text), overall.reason)]
        if not regions:
            continue
        pieces, position = [], 0
        for region in regions:
            pieces += [value.text[position : region.start], note(region.reason)]
            position = region.end
            withheld.append(
                Withheld(
                    value.path,
                    region.start,
                    region.end,
                    region.reason,
                    value.text[region.start : region.end],
                )
            )
        pieces.append(value.text[position:])
        if value.inner:  # decoded from inside a string: that string goes whole
            replaced[value.path] = note(regions[0].reason)
        else:
            replaced[value.path] = "".join(pieces)
    if whole is not None and len(reading.values) > 1:
        for value, verdict in _read_together(reading.values, replaced, whole):
            replaced[value.path] = note(verdict.reason)
            withheld.append(Withheld(value.path, 0, len(value.text), verdict.reason, value.text))
    if not withheld:
        return text, []
    return reading.rebuild(replaced), withheld


JOINED_STRETCHES = 4  # stretches read across values looked for; past them, the rest goes


def _read_together(
    values: Sequence[Value], replaced: dict[str, str], whole: Callable[[str], Verdict]
) -> list[tuple[Value, Verdict]]:
    """The values to withhold because what they say read one after another is flagged.

    The model reads a serialization's values in a row, so an order split across two of them
    ("Please ignore" and "all previous instructions") is one order. The values are read
    joined as the planner would get them (keys that are plain names left out, as the model
    reads past them); when that is flagged, the shortest run of them that is flagged on its
    own is found by halving (a few judgements of joined text, not one per pair) and its
    values are withheld (its keys, or values already withheld in part, only when the run
    holds nothing else: a withheld key takes its whole mapping), and the rest is read
    again. When no run can be found (the judge is not monotone) or ``JOINED_STRETCHES``
    runs were withheld and the rest is still flagged, every value left goes.
    """
    # A key that is a plain name ("body", "from") is the structure the model reads past. A
    # value withheld in part is read as the planner will read it, and withheld whole only
    # when the run holds nothing else to withhold.
    readable: list[Value] = []
    for value in values:
        if value.path.endswith("~key") and value.text.isidentifier():
            continue
        if value.path in replaced:
            if readable and readable[-1].path == value.path:
                continue  # (strings decoded from one string: it is one note now)
            value = Value(value.path, replaced[value.path])
        readable.append(value)
    gone: set[str] = set()
    found: list[tuple[Value, Verdict]] = []
    for stretch in range(JOINED_STRETCHES + 1):
        rest = [value for value in readable if value.path not in gone]

        def flagged(start: int, end: int, rest: list[Value] = rest) -> Verdict:
            return whole(" ".join(value.text for value in rest[start:end]))

        if len(rest) < 2 or not (verdict := flagged(0, len(rest))).flagged:
            break
        run = _shortest_run(len(rest), flagged) if stretch < JOINED_STRETCHES else None
        if run is None:
            return found + [(value, verdict) for value in rest]
        first, end, why = run
        taken = [
            v for v in rest[first:end] if not v.path.endswith("~key") and v.path not in replaced
        ] or rest[first:end]
        why = Verdict(True, f"{why.reason}, read across {end - first} values")
        found += [(value, why) for value in taken]
        gone |= {value.path for value in taken}
    return found


def _shortest_run(
    end: int, flagged: Callable[[int, int], Verdict]
) -> tuple[int, int, Verdict] | None:
    """The values ``[first, last)`` of a flagged stretch: the shortest prefix, then suffix."""
    low, high = 1, end
    while low < high:  # the shortest flagged prefix
        middle = (low + high) // 2
        low, high = (low, middle) if flagged(0, middle).flagged else (middle + 1, high)
    last = low
    low, high = 0, last - 1
    while low < high:  # the latest start of a flagged stretch ending at last
        middle = (low + high + 1) // 2
        low, high = (middle, high) if flagged(middle, last).flagged else (low, middle - 1)
    verdict = flagged(low, last)
    return (low, last, verdict) if verdict.flagged else None
