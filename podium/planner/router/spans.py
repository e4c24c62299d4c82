"""Short text values for string parameters: the words of a request no tool word explains.

A request such as "Find the boiling point of water at sea level" names the tool with some
words (boiling, point, sea, level) and the value with the others (water). The router takes
the runs of content words that are neither the tool's own words nor generic request words,
and gives each string parameter the run next to a word of its own name ("AA genotype",
"cell type: human"), else the next run in reading order. Spans "from X to Y" go to
start/end parameters, a math expression to a function parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podium.planner.router.text import STOP_WORDS, name_parts, stem, words

GENERIC = frozenset(
    """find calculate compute get give show tell determine estimate predict identify
    retrieve fetch search look list provide generate create make need want know like help
    based would could please using use return returns result results information info detail
    details data kind type many much what which who exact exactly total current
    also following specific certain particular one two whether names name
    top next last first latest nearest near nearby best highest lowest most least
    cheap upcoming recent new old good great between among versus
    three four five six seven eight nine ten dozen
    open opens serve serves take takes have has had won win wins found change save put
    offer offers include includes play plays want wants need needs like likes prefer
    check put book order draw plot send convert run sort train analyze analyse compose
    locate tell""".split()
)
_TOKEN = re.compile(r"[A-Za-z][\w'.-]*[A-Za-z0-9]|[A-Za-z]|\d[\w.-]*")
_BREAK = re.compile(r"[,;:?!()\"]|\.\s|\s[-–]\s")
# Pieces of a math expression over one variable: numbers, x/y/z/t, operators, brackets.
# Each alternative starts with a different character, so a scan is linear.
_MATH = re.compile(r"(?:\d+(?:\.\d+)?|(?<![A-Za-z])[xyzt](?![A-Za-z])|[-+*/^()]|[ \t])+")
START_WORDS = frozenset({"start", "origin", "source", "from", "departure", "begin"})
END_WORDS = frozenset({"end", "destination", "target", "to", "arrival", "finish"})
FROM_TO = re.compile(
    # Places are short (at most 60 characters each): bounded, so a scan stays linear.
    r"\b(?:from|between)\s+(?:the\s+)?(.{1,60}?)\s+(?:to|and)\s+(?:the\s+)?(.{1,60}?)(?=\s+(?:by|via|with|using|in|on|at|for|"
    r"and|through)\b|[,?!;]|\.(?:\s|$)|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Run:
    """A run of content words, where it starts and ends in the text."""

    text: str
    start: int
    end: int


def _content(token: str, tool_words: set[str]) -> bool:
    lowered = re.sub(r"'s$", "", token.lower().strip(".'"))
    if lowered in STOP_WORDS or lowered in GENERIC or token[0].isdigit():
        return False
    if len(lowered) > 4 and lowered.endswith("ed"):  # a verb's past form: "numbered by"
        return False
    folded = words(token)
    return bool(folded) and not set(folded) & tool_words


def runs(text: str, tool_words: set[str], taken: set[str]) -> list[Run]:
    """Runs of adjacent content words (not the tool's words, not taken values)."""
    found: list[Run] = []
    current: list[re.Match[str]] = []

    def close() -> None:
        # A verb's -ing form at either end of a longer run is not part of the value
        # ("offering Thai", "cake including").
        while len(current) > 1 and current[0].group().lower().endswith("ing"):
            current.pop(0)
        while len(current) > 1 and current[-1].group().lower().endswith("ing"):
            current.pop()
        if current:
            start, end = current[0].start(), current[-1].end()
            found.append(Run(text[start:end].rstrip("."), start, end))
            current.clear()

    for match in _TOKEN.finditer(text):
        token = match.group()
        gap = text[current[-1].end() : match.start()] if current else ""
        if current and (_BREAK.search(gap + " ") or gap.strip()):
            close()
        if token in taken or not _content(token, tool_words):
            close()
            continue
        current.append(match)
    close()
    return [r for r in found if r.text not in taken]


def near_hint(candidates: list[Run], text: str, hints: list[str]) -> Run | None:
    """The run right before or after a word of the parameter's name ("AA genotype")."""
    lowered = text.lower()
    for hint in hints:
        for match in re.finditer(rf"\b{re.escape(hint)}\w*", lowered):
            for run in candidates:
                between_after = lowered[match.end() : run.start]
                between_before = lowered[run.end : match.start()]
                if run.start >= match.end() and re.fullmatch(
                    r"\s*(?:[:=]|is|of|for|in|as|called|named)?\s*(?:the\s+|a\s+|an\s+)?",
                    between_after,
                ):
                    return run
                if run.end <= match.start() and re.fullmatch(r"\s*", between_before):
                    return run
    return None


def endpoints(text: str) -> tuple[str, str] | None:
    """The two places of "from X to Y", if the text says so."""
    match = FROM_TO.search(text)
    return (match.group(1).strip(), match.group(2).strip()) if match else None


def expression(text: str) -> str | None:
    """A math expression over a variable, written in Python ("3x^2" -> "3x**2")."""
    best = ""
    for match in _MATH.finditer(text):
        candidate = match.group().strip(" \t-+*/")
        has_variable = re.search(r"[xyzt]", candidate)
        if has_variable and re.search(r"[\d^*+/-]", candidate) and len(candidate) > len(best):
            best = candidate
    return re.sub(r"\s*\^\s*", "**", best) if best else None


def side(name: str) -> str | None:
    """'start' or 'end' for parameters that name one end of a route, else None."""
    parts = {stem(p) for p in name_parts(name)}
    if parts & START_WORDS or re.fullmatch(r"[a-z_]*[a-z]_?1", name.lower()):
        return "start"
    if parts & END_WORDS or re.fullmatch(r"[a-z_]*[a-z]_?2", name.lower()):
        return "end"
    return None
