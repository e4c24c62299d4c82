"""Text analysis for the offline router: words, tool matching scores, and typed values."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

STOP_WORDS = frozenset(
    """a an the of to in on at for from by with and or is are was were be been being it its
    this that these those i me my we our you your he she they them their what which who whom
    whose how when where why can could would should will shall may might must do does did
    please tell show give find get let lets me some any all each every about into over under
    as if then than so such there here just also very much many more most up out
    value values number numbers using use given specified""".split()
)
# Generic verbs that name the same action; without an LLM, the router needs them to match
# "compute" in a request with "calculate" in a tool's description.
SYNONYMS = {
    "compute": "calculate",
    "calc": "calculate",
    "evaluate": "calculate",
    "work": "calculate",
    "fetch": "get",
    "retrieve": "get",
    "obtain": "get",
    "lookup": "search",
    "look": "search",
    "query": "search",
    "seek": "search",
    "locate": "search",
    "save": "store",
    "remember": "store",
    "record": "store",
    "read": "read",
    "open": "read",
    "delete": "remove",
    "erase": "remove",
    "current": "now",
    "today": "now",
    "time": "time",
    "date": "time",
    "clock": "time",
    "sum": "add",
    "plus": "add",
    "multiply": "product",
    "times": "product",
    "recall": "search",
}
# "e.g. New York, NY", "such as 'vegan'": examples of values, up to the end of the sentence.
EXAMPLES = re.compile(
    r"\b(?:e\.g\.?|eg\.|for example|for instance|examples?:?|such as|like)[^.;]*(?:\.\s|$)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z']*|\d+(?:\.\d+)?")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def stem(word: str) -> str:
    """A light suffix stemmer: enough to match 'triangles' with 'triangle'."""
    for suffix, keep in (
        ("ies", "y"),
        ("ie", "y"),
        ("ments", ""),
        ("ment", ""),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def name_parts(name: str) -> list[str]:
    """The parts of a parameter's name, lowered: "start_location" -> ["start", "location"]."""
    return list(_name_parts(name))


_PART_BREAK = re.compile(r"[_\W]+")


@functools.lru_cache(maxsize=4096)
def _name_parts(name: str) -> tuple[str, ...]:  # names repeat for every clause of a plan
    return tuple(p for p in _PART_BREAK.split(name.lower()) if p)


def words(text: str) -> list[str]:
    """Normalized content words of ``text``: split, lowered, stemmed, synonyms folded."""
    text = _CAMEL.sub(" ", text).replace("_", " ").replace(".", " ").replace("-", " ")
    return [word for raw in _WORD.findall(text) if (word := _normal(raw))]


@functools.lru_cache(maxsize=65_536)
def _normal(raw: str) -> str:
    """One word as ``words`` keeps it ("" for a word it drops); words recur, so cached."""
    word = raw.lower().strip("'")
    if word in STOP_WORDS or word.isdigit() or len(word) < 2:
        return ""
    word = SYNONYMS.get(word, word)
    return SYNONYMS.get(stem(word), stem(word))


@dataclass(frozen=True)
class ToolProfile:
    """The words that describe one tool: its name weighs most, then description, parameters."""

    name: str
    name_words: frozenset[str]
    words: Counter[str]
    # The words that explain the tool without its examples: a request's word found here is
    # about the tool ("distance"), not a value for it ("New York" in "e.g. New York, NY").
    own_words: frozenset[str] = frozenset()

    @classmethod
    def of(cls, schema: dict[str, Any]) -> ToolProfile:
        """Build the profile of a tool from its OpenAI function schema."""
        function = schema.get("function", schema)
        name = function["name"]
        name_words = frozenset(words(name))
        bag: Counter[str] = Counter()
        for word in name_words:
            bag[word] += 3
        description = function.get("description", "")
        bag.update(words(description))
        own = set(name_words) | set(words(EXAMPLES.sub(" ", description)))
        for prop, spec in function.get("parameters", {}).get("properties", {}).items():
            bag.update(words(prop))
            bag.update(words(str(spec.get("description", ""))))
            own.update(words(prop))
            own.update(words(EXAMPLES.sub(" ", str(spec.get("description", "")))))
        return cls(name=name, name_words=name_words, words=bag, own_words=frozenset(own))


def idf(profiles: Sequence[ToolProfile]) -> dict[str, float]:
    """Inverse document frequency of each word over the tool set (rarer words decide more)."""
    n = len(profiles)
    df: Counter[str] = Counter()
    for profile in profiles:
        df.update(set(profile.words))
    return {word: math.log(1 + (n + 1) / (count + 0.5)) for word, count in df.items()}


def score(request_words: Iterable[str], profile: ToolProfile, weights: dict[str, float]) -> float:
    """How well a request matches a tool, between 0 and about 1.

    Half comes from the share of the tool's name words found in the request, half from the
    weighted share of the request's words found in the tool's profile.
    """
    request = set(request_words)
    if not request or not profile.words:
        return 0.0
    name_share = (
        len(request & profile.name_words) / len(profile.name_words) if profile.name_words else 0.0
    )
    total = sum(weights.get(w, 1.0) for w in request)
    matched = sum(weights.get(w, 1.0) for w in request if w in profile.words)
    return 0.5 * name_share + 0.5 * (matched / total if total else 0.0)
