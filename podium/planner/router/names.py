"""Proper names in a request ("the Metropolitan Museum of Art", "Boston, MA", "LeBron James").

A name is a run of capitalized words, joined by a few small words ("of", "the", "de"), not
counting the capitalized word that starts a sentence when it is an ordinary word ("What's",
"Find"). Parameters that take names (a city, a team, an artist...) take the name their own
words or the word before the name point to: "in Boston" for a location, "by Rodin" for an
author, "player LeBron James" for a player.
"""

from __future__ import annotations

import functools
import re

from podium.planner.router.dates import MONTHS, WEEKDAYS
from podium.planner.router.spans import GENERIC, Run
from podium.planner.router.text import STOP_WORDS, name_parts, stem, words

# Parameters whose values are names, by the words of the parameter's name.
PLACE_WORDS = frozenset(
    """city location place country state region area address loc town destination
    origin venue where timezone zone""".split()
)
PERSON_WORDS = frozenset(
    """artist author creator composer director inventor discoverer painter sculptor writer
    by""".split()
)
NAME_WORDS = (
    PLACE_WORDS
    | PERSON_WORDS
    | frozenset(
        """name title company team player league brand museum hotel event person organization
    restaurant park store club celebrity scientist actor band singer entity game treaty
    act model building""".split()
    )
)
_JOINERS = frozenset({"of", "the", "de", "la", "del", "da", "von", "van", "du", "des", "&"})
_TOKEN = re.compile(r"[A-Za-z0-9][\w'’.&+#-]*|&")
# Abbreviations keep their final dot ("D.C.", "Inc."); other words lose it.
_ABBREVIATION = re.compile(r"(?:[A-Z]\.){2,}|(?:Inc|Ltd|Co|Corp|Jr|Sr|Mr|Mrs|Ms|Dr|St|Mt)\.")
_PLACE_CUES = frozenset({"in", "near", "at", "around", "within", "of"})
_PERSON_CUES = frozenset({"by"})


def _capitalized(token: str) -> bool:
    return token[0].isupper() or (token[0].isdigit() and any(c.isupper() for c in token))


def _clean(token: str) -> str:
    if _ABBREVIATION.fullmatch(token.split()[-1] if token.split() else token):
        return token
    token = re.sub(r"['’]s$", "", token.rstrip(".,'’"))
    return token


def phrases(text: str) -> list[Run]:
    """The proper names in ``text``, in reading order."""
    return list(_phrases(text))


@functools.lru_cache(maxsize=256)
def _phrases(text: str) -> tuple[Run, ...]:  # each tool of a plan reads the same clauses
    tokens = list(_TOKEN.finditer(text))
    found: list[Run] = []
    current: list[tuple[int, int]] = []
    pending: list[tuple[int, int]] = []  # joiners waiting for a capitalized word

    def close() -> None:
        if current:
            start, end = current[0][0], current[-1][1]
            value = _clean(text[start:end])
            if value:
                found.append(Run(value, start, start + len(value)))
        current.clear()
        pending.clear()

    for index, match in enumerate(tokens):
        token, start = match.group(), match.start()
        gap = text[current[-1][1] if current else start : start]
        broken = bool(current) and bool(re.search(r"[,;:?!()\"]|\.\s", gap))
        if broken:
            close()
        lowered = _clean(token).lower()
        ends_sentence = current and text[current[-1][1] - 1] == "."
        if ends_sentence and (lowered in STOP_WORDS or lowered in GENERIC):
            close()  # "... Liverpool F.C. Include its statistics": a new sentence
            continue
        if lowered.rstrip("s") in WEEKDAYS or (lowered in MONTHS and lowered != "may"):
            close()  # a date, not a name
            continue
        if lowered in ("am", "pm", "a.m", "p.m"):
            close()  # a date, not a name
            continue
        if _capitalized(token) and lowered != "i":
            if not current and _sentence_start(text, start) and _ordinary(lowered, tokens, index):
                continue
            current.extend(pending)
            pending.clear()
            current.append((start, match.end()))
            if token.endswith((".", ",")) and not _ABBREVIATION.fullmatch(token):
                close()
        elif current and lowered in _JOINERS:
            pending.append((start, match.end()))
        else:
            close()
    close()
    return tuple(found)


def _sentence_start(text: str, position: int) -> bool:
    """Whether only spaces and quotes stand between ``position`` and a sentence's end."""
    index = position  # scanned back from the position: the text before it is not copied
    while index > 0 and (text[index - 1].isspace() or text[index - 1] in "'\"“"):
        index -= 1
    return index == 0 or (text[index - 1] in ".?!:" and text[index].isspace())


def _ordinary(lowered: str, tokens: list[re.Match[str]], index: int) -> bool:
    """Whether a sentence's capitalized first word is an ordinary word, not a name."""
    if lowered in STOP_WORDS or lowered in GENERIC or not words(lowered):
        return True
    following = tokens[index + 1].group() if index + 1 < len(tokens) else ""
    return not following or not _capitalized(following)


def _without_leading(run: Run, tool_words: frozenset[str], hints: list[str]) -> Run:
    """The name without the tool's own words before it ("Lawyer John Doe" -> "John Doe").

    A word the parameter's name uses stays: "Hotel Paradise" for hotel_name.
    """
    text, start = run.text, run.start
    while (first := re.match(r"\S+\s+", text)) and set(words(first.group())) <= tool_words:
        if not words(first.group()) or set(words(first.group())) & set(hints):
            break
        text, start = text[first.end() :], start + first.end()
    return Run(text, start, start + len(text))


def _with_regions(found: list[Run], text: str) -> list[Run]:
    """Places with the region written after them: "Boston, MA", "Denver, Colorado".

    Not in a list of places: "Tokyo, Paris and London" stays three names.
    """
    joined: list[Run] = []
    index = 0
    while index < len(found):
        run = found[index]
        region = found[index + 1] if index + 1 < len(found) else None
        if (
            region is not None
            and text[run.end : region.start] == ", "
            and len(region.text.split()) <= 3
            and not re.match(r"\s*(?:,|and\b|or\b)", text[region.end :])
        ):
            joined.append(Run(text[run.start : region.end], run.start, region.end))
            index += 2
        else:
            joined.append(run)
            index += 1
    return joined


def takes_name(name: str) -> bool:
    """Whether a parameter takes a proper name (by the words of its name)."""
    return bool(set(name_parts(name)) & NAME_WORDS)


def name_value(
    name: str,
    text: str,
    found_names: list[Run],
    taken: set[str],
    tool_words: frozenset[str],
    cued_only: bool = False,
    regions: bool = False,
) -> str | None:
    """The name among ``found_names`` (the phrases of ``text``) that ``name`` should take.

    The one the parameter's own words or its cue word point to. With ``cued_only``, only
    a name the cue word points to ("by Rodin" for an artist). With ``regions``, a place
    keeps the region written after it ("Boston, MA"): for tools with no other place
    parameter (one that could take the region).
    """
    parts = set(name_parts(name))
    hints = [stem(p) for p in parts if len(p) > 2 and p != "name"]
    place, person = bool(parts & PLACE_WORDS), bool(parts & PERSON_WORDS)
    lowered = text.lower()
    best: tuple[float, int, str] | None = None
    for order, found in enumerate(
        _with_regions(found_names, text) if place and regions else found_names
    ):
        run = _without_leading(found, tool_words, hints)
        own = set(words(run.text))
        if run.text in taken or (own and own <= tool_words):
            continue
        before = re.findall(r"[a-z]+", lowered[max(0, run.start - 30) : run.start])
        cue = before[-1] if before else ""
        score = 0.0
        if place:
            score += 2 if cue in _PLACE_CUES else -1 if cue in _PERSON_CUES else 0
        elif person:
            score += 2 if cue in _PERSON_CUES else -1 if cue in _PLACE_CUES else 0
        elif cue in _PLACE_CUES - {"of"} or cue in _PERSON_CUES:
            score -= 1
        near = words(" ".join(before[-3:]))
        if any(h in near or h in own for h in hints):
            score += 3
        if cued_only and score < 2:
            continue
        if best is None or score > best[0]:
            best = (score, -order, run.text)
    return best[2] if best else None
