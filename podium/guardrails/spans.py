"""Withholding the flagged part of a text, not the whole: segments, their verdicts, the rest.

A text is read into its values (podium.guardrails.reading); each value is cut into segments
(its lines, long lines at sentence ends); a detector judges each segment. A flagged segment
is withheld with what belongs to it: the markup element around it (``<INFORMATION>...``),
the segment it introduces (one ending in ':'), and neighbours the detector finds borderline.
What is withheld is replaced by a note naming why, and the text is rebuilt in its own form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from podium.guardrails.reading import read

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
    pattern spans several), the value is withheld whole. Without ``whole`` every segment is
    judged. Returns the text unchanged and no stretches when nothing is flagged.
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
    if not withheld:
        return text, []
    return reading.rebuild(replaced), withheld
