"""Lists written in prose: "Microsoft and Google", "C, F and G", "values 12, 24, 36".

An array parameter takes the list its own word comes just before ("dataset_B with the values
15, 30, 45"), else the first list no other array took.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from podium.planner.router.spans import GENERIC
from podium.planner.router.text import STOP_WORDS, name_parts, stem, words

# An item: a few words (a single capital letter counts: "C", "F"), no punctuation inside.
# Linear time: possessive runs give back nothing that could help, separators start where
# a run of spaces does, and a list is tried only at the first letter or digit of a word
# (see _lists); 12 KB of digits took 15 s to search before.
_ITEM = r"[A-Za-z0-9][\w'’&+#.-]*+(?:\s++[A-Za-z0-9][\w'’&+#.-]*+){0,3}"
_SEPARATOR = re.compile(
    r"(?!(?<=\s)\s)(?:\s++(?:,\s*+(?:and\s+|or\s+)?|(?:and|or|&)\s++)|,\s*+(?:and\s+|or\s+)?)"
)
_LIST = re.compile(rf"{_ITEM}(?:{_SEPARATOR.pattern}{_ITEM}){{1,30}}")
# Where a list may start: the first letter or digit of each run of word characters.
_LIST_START = re.compile(r"(?<![\w'’&+#.-])[\w'’&+#.-]*?(?=[A-Za-z0-9])")
_NUMBER_LIST = re.compile(
    r"(?!(?<=\d)\d)-?+\d++(?:\.\d+)?+"
    r"(?:(?:\s++(?:,\s*+(?:and\s+)?|and\s++)|,\s*+(?:and\s+)?)-?+\d++(?:\.\d+)?+){1,200}"
)


def _trim(item: str, tool_words: frozenset[str], first: bool) -> str:
    """An item without the words around it that are not part of it.

    The first item loses the words before it ("stock prices of Microsoft" -> "Microsoft"):
    what follows its last stop word or tool word.
    """
    tokens = item.split()
    if first:
        for index in range(len(tokens) - 1, -1, -1):
            lowered = tokens[index].lower()
            if lowered in STOP_WORDS or lowered in _BEFORE or set(words(lowered)) & tool_words:
                tokens = tokens[index + 1 :]
                break
    while tokens and tokens[-1].lower() in STOP_WORDS:
        tokens.pop()
    return " ".join(tokens).strip(".'’\"")


# Words that end the text before a list's first item ("between John and Alice").
_BEFORE = frozenset(
    """between among am is are was were with without like including include includes
    via per versus vs having has have such as namely""".split()
)


def word_lists(text: str, tool_words: frozenset[str]) -> list[tuple[int, list[str]]]:
    """Lists of two or more short items, with where each starts."""
    found = []
    for match in _lists(text):
        if re.fullmatch(r"[\d\s,.and-]+", match.group()):
            continue  # numbers: see number_lists
        raw = _SEPARATOR.split(match.group())
        # A later item with a stop word in it ends the list there ("Clippers on Jan 28").
        for index in range(1, len(raw)):
            if any(t.lower() in STOP_WORDS for t in raw[index].split()[1:]):
                raw = raw[: index + 1]
                break
        items = [_trim(item, tool_words, index == 0) for index, item in enumerate(raw)]
        # The last item ends where the list does: "Microsoft and Google for the last 2 weeks".
        items[-1] = _last(raw[-1])
        items = [i for i in items if i]
        if len(items) >= 2:
            # Where the first item starts: a word just before it names the list.
            found.append((match.start() + max(0, raw[0].rfind(items[0])), items))
    return found


def _lists(text: str) -> Iterator[re.Match[str]]:
    """What ``_LIST.finditer(text)`` finds, tried only where a word's first letter is.

    A match starting inside a word implies the same match from that word's first letter
    or digit (the item's characters run on to the word's end either way), so the other
    starts need no trying; trying them made the search quadratic in a word's length.
    """
    end = 0
    for start in _LIST_START.finditer(text):
        if start.end() >= end and (match := _LIST.match(text, start.end())):
            end = match.end()
            yield match


def _last(item: str) -> str:
    """The words of a list's last item, without what follows the list.

    Its capitalized run ("Job History data" -> "Job History"), else its words up to the
    first stop word, at most two.
    """
    tokens = item.split()
    if tokens and tokens[0][0].isupper():
        kept = [
            tokens[0],
            *itertools.takewhile(lambda t: t[0].isupper() or t[0].isdigit(), tokens[1:]),
        ]
    else:
        kept = list(
            itertools.takewhile(
                lambda t: t.lower() not in STOP_WORDS and t.lower() not in GENERIC, tokens
            )
        )[:2]
    return " ".join(kept).strip(".'’\"")


def number_lists(text: str) -> list[tuple[int, int, str]]:
    """Runs of three or more numbers separated by commas or "and": start, end, text."""
    runs = []
    for match in _NUMBER_LIST.finditer(text):
        if len(re.findall(r"-?\d+(?:\.\d+)?", match.group())) >= 3:
            runs.append((match.start(), match.end(), match.group()))
    return runs


def named(position: int, text: str, name: str) -> bool:
    """Whether a word of parameter ``name`` comes shortly before ``position``."""
    parts = {stem(p) for p in name_parts(name) if len(p) > 1}
    before = set(words(text[max(0, position - 40) : position]))
    return bool(parts & before)
