"""One call per item when a request lists several values for one parameter.

"the factorial of 5, 10 and 15", "for 10, 20 and 30 years", "concerts near Berlin and
Paris": the clause's call is made once per item, each from the clause with the list replaced
by that one item. A list of numbers counts when exactly one argument of the call took one of
its numbers ("12 and 7" for a and b are two arguments, not a list). A list of words starts
at the value an argument took and goes on with items of the same shape: names after a name,
a quote after a quote, a word after a word; none may be a value another argument took.
Lists for different parameters pair up with "respectively"; otherwise every combination is
made, up to a bound.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from podium.planner.router.text import STOP_WORDS

MAX_CALLS = 24
_RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)
# A number ends where it ends: "400,000" is one number, "5,10" two.
_NUMBER = r"-?\$?\d+(?:,\d{3})*(?:\.\d+)?(?!\d|,\d{3}(?!\d)|\.\d)"
_UNIT = r"(?:\s*(?!(?:and|or)\b)[A-Za-z%]+)?"
_SEPARATOR = r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+)"
_NUMBER_LIST = re.compile(rf"(?<![\w.]){_NUMBER}{_UNIT}(?:{_SEPARATOR}{_NUMBER}{_UNIT})+")
_ITEM = re.compile(rf"({_NUMBER})({_UNIT})")
_CLOSING = re.compile(r"\b(?:and|or)\b|&")
# Item shapes, after a separator: a name (capitalized words), a quote, a lowercase word.
_NAME = r"[A-Z0-9][\w'’&.-]*(?:\s+[A-Z0-9][\w'’&.-]*){0,4}"
_QUOTE = r"'[^']{1,200}'|\"[^\"]{1,200}\""
_WORD = r"[a-z][\w-]*"


@dataclass(frozen=True)
class Listing:
    """A list in the text: where it stands, and its items as each would be written alone."""

    start: int
    end: int
    items: tuple[str, ...]


@dataclass(frozen=True)
class Variant:
    """The text of one call, and the item each listed argument takes in it."""

    text: str
    items: dict[str, str]


def _number_listing(match: re.Match[str]) -> Listing | None:
    found = list(_ITEM.finditer(match.group()))
    if not _CLOSING.search(match.group(), found[-2].end(), found[-1].start()):
        return None  # "(3, 4)" is a point; a list ends with "and" or "or"
    items = [(m.group(1), m.group(2).strip()) for m in found]
    units = {unit for _, unit in items if unit}
    if len(units) > 1:  # "6 feet and 80 kg": two quantities, not a list
        return None
    unit = f" {units.pop()}" if units else ""
    return Listing(match.start(), match.end(), tuple(f"{n}{unit}" for n, _ in items))


def _plain(value: str) -> str:
    return re.sub(r"[$,]", "", value).lower()


def _takes(value: Any, item: str) -> bool:
    """Whether an argument's value is (part of) a list item."""
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        return False
    if isinstance(value, int | float):
        number = re.match(r"-?\$?[\d,]*\d(?:\.\d+)?", item)
        return number is not None and float(_plain(number.group())) == float(value)
    text = str(value).strip().lower()
    return bool(text) and re.search(rf"(?<!\w){re.escape(text)}(?!\w)", item.lower()) is not None


def _number_owner(listing: Listing, arguments: dict[str, Any]) -> str | None:
    """The one argument that took a number of the list, if exactly one did."""
    owners = [n for n, v in arguments.items() if any(_takes(v, i) for i in listing.items)]
    return owners[0] if len(owners) == 1 else None


def _shape(value: str, text: str, at: int) -> str | None:
    """The pattern of the items that may follow ``value`` (found at ``at``) in a list."""
    after = at + len(value)
    if at > 0 and text[at - 1] in "'\"" and text[after : after + 1] == text[at - 1]:
        return _QUOTE
    if re.fullmatch(_NAME, value):
        return _NAME
    if re.fullmatch(_WORD, value) and value not in STOP_WORDS:
        return _WORD
    return None


def _word_listing(value: str, text: str) -> Listing | None:
    """The list that starts at ``value`` in ``text``: it and the items of its shape after it."""
    found = re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text)
    if found is None:
        return None
    shape = _shape(value, text, found.start())
    if shape is None:
        return None
    quoted = shape == _QUOTE
    start, end = (found.start() - 1, found.end() + 1) if quoted else found.span()
    items, ends, closed = [text[start:end]], [end], 0
    following = re.compile(rf"{_SEPARATOR}({shape})(?![\w'’&-])")
    while len(items) <= MAX_CALLS and (more := following.match(text, ends[-1])):
        item = more.group(1)
        if not quoted and item.lower() in STOP_WORDS:
            break
        items.append(item)
        ends.append(more.end())
        if _CLOSING.search(text, more.start(), more.start(1)):
            closed = len(items)
    if closed < 2:  # "Miami, USA" is a place; a list ends with "and" or "or"
        return None
    # Quotes kept in the items: each variant reads as the text did.
    return Listing(start, ends[closed - 1], tuple(items[:closed]))


def _lists(text: str, arguments: dict[str, Any]) -> dict[str, Listing]:
    """Each argument that took an item of a list, with the list."""
    owned: dict[str, Listing] = {}
    for match in _NUMBER_LIST.finditer(text):
        listing = _number_listing(match)
        owner = None if listing is None else _number_owner(listing, arguments)
        if listing is not None and owner is not None and owner not in owned:
            owned[owner] = listing
    for name, value in arguments.items():
        if name in owned or not isinstance(value, str):
            continue
        listing = _word_listing(value, text)
        others = [v for n, v in arguments.items() if n != name]
        if listing is not None and not any(
            _takes(v, item) for v in others for item in listing.items[1:]
        ):
            owned[name] = listing
    spans = sorted(owned.values(), key=lambda x: x.start)
    if any(a.end > b.start for a, b in itertools.pairwise(spans)):
        return {}  # lists that overlap are no reading of the text
    return owned


def variants(text: str, arguments: dict[str, Any]) -> list[Variant]:
    """The texts of one call each when the call's arguments took items of lists, else []."""
    if not _CLOSING.search(text):
        return []  # every list ends with "and" or "or"
    owned = _lists(text, arguments)
    if not owned:
        return []
    owners = sorted(owned, key=lambda name: owned[name].start)
    chosen = [owned[name] for name in owners]
    if len(chosen) > 1 and len({len(x.items) for x in chosen}) == 1 and _RESPECTIVELY.search(text):
        combinations = list(zip(*(x.items for x in chosen), strict=True))
    else:
        product = itertools.product(*(x.items for x in chosen))
        combinations = list(itertools.islice(product, MAX_CALLS + 1))
    if len(combinations) > MAX_CALLS:
        return []
    found = []
    for combination in combinations:
        written = text
        for listing, item in sorted(zip(chosen, combination, strict=True), key=_from_the_end):
            written = written[: listing.start] + item + written[listing.end :]
        found.append(Variant(written, dict(zip(owners, combination, strict=True))))
    return found


def _from_the_end(pair: tuple[Listing, str]) -> int:
    return -pair[0].start


def consistent(variant: Variant, original: dict[str, Any], arguments: dict[str, Any]) -> bool:
    """Whether a variant's call differs from the original only in the listed arguments."""
    if set(arguments) != set(original):
        return False
    return all(
        _takes(value, variant.items[name]) if name in variant.items else value == original[name]
        for name, value in arguments.items()
    )


def settled(variant: Variant, arguments: dict[str, Any]) -> dict[str, Any]:
    """The variant's arguments, a listed string argument taking its whole item ("Maroon 5")."""
    return {
        name: variant.items[name].strip("'\"")
        if name in variant.items and isinstance(value, str)
        else value
        for name, value in arguments.items()
    }
