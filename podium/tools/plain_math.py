"""Arithmetic said in words, read as an expression the calculator evaluates.

"square root of 144" -> ``144 ** 0.5``, "15% of 80" -> ``15 / 100 * 80``, "seven times six"
-> ``7 * 6``, "add 3 and 5" -> ``3 + 5``, "3 to the power of 4" -> ``3 ** 4``, "1,234 +
5,678" -> ``1234 + 5678``. The reading is strict: a text with any word it does not know
is not arithmetic (None), so nothing is guessed. Both the calculator (whatever model calls
it) and the offline router (to route such a request and show how it read it) use it.
"""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORD = "|".join([*_UNITS, *_TENS, *_SCALES])
_SPELLED = re.compile(rf"\b(?:{_NUMBER_WORD})(?:[\s-]+(?:and\s+)?(?:{_NUMBER_WORD}))*\b")
# "1,234" and "1,234,567.5": groups of three after a comma (a list "1,2,3" is not one).
_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")
_NUMBER = r"-?\d+(?:\.\d+)?"
MAX_SAID = 300  # characters: a longer text is read as it is written
# Questions around the arithmetic: "what is", "calculate", "please", a trailing "?".
_ASKING = re.compile(
    r"^(?:(?:please|now|and|so|ok|okay|then|hey)\s+)*(?:(?:what(?:'s| is)|how much is|"
    r"calculate|compute|work out|evaluate|tell me|give me|find|solve)\s+)*(?:the\s+)?",
)
_PREFIX = [  # whole phrases with the operation first
    (re.compile(rf"^(?:add|sum)\s+({_NUMBER})\s+(?:and|to|plus)\s+({_NUMBER})$"), "{0} + {1}"),
    (re.compile(rf"^subtract\s+({_NUMBER})\s+from\s+({_NUMBER})$"), "{1} - {0}"),
    (re.compile(rf"^multiply\s+({_NUMBER})\s+(?:by|and|with)\s+({_NUMBER})$"), "{0} * {1}"),
    (re.compile(rf"^divide\s+({_NUMBER})\s+by\s+({_NUMBER})$"), "{0} / {1}"),
    (re.compile(rf"^(?:sum|total)\s+of\s+({_NUMBER})\s+and\s+({_NUMBER})$"), "{0} + {1}"),
    (re.compile(rf"^product\s+of\s+({_NUMBER})\s+and\s+({_NUMBER})$"), "{0} * {1}"),
    (re.compile(rf"^quotient\s+of\s+({_NUMBER})\s+and\s+({_NUMBER})$"), "{0} / {1}"),
    (
        re.compile(rf"^difference\s+(?:between|of)\s+({_NUMBER})\s+and\s+({_NUMBER})$"),
        "{0} - {1}",
    ),
]
_INFIX = [  # words that stand for an operator (or a function) between or before numbers
    # A square root as a power: the offline router knows arithmetic by its operators.
    (re.compile(rf"(?:square\s+root|sqrt)\s+of\s+({_NUMBER})"), r"\1 ** 0.5"),
    (re.compile(rf"sqrt\s*\(\s*({_NUMBER})\s*\)"), r"\1 ** 0.5"),
    (re.compile(rf"({_NUMBER})\s*(?:%|percent)\s+of\s+({_NUMBER})"), r"\1 / 100 * \2"),
    (re.compile(rf"half\s+of\s+({_NUMBER})"), r"\1 / 2"),
    (re.compile(rf"({_NUMBER})\s+squared"), r"\1 ** 2"),
    (re.compile(rf"({_NUMBER})\s+cubed"), r"\1 ** 3"),
    (
        re.compile(
            rf"({_NUMBER})\s+(?:to\s+the\s+power\s+of|to\s+the|raised\s+to(?:\s+the\s+power\s+of)?)"
            rf"\s+({_NUMBER})(?:st|nd|rd|th)?(?:\s+power)?"
        ),
        r"\1 ** \2",
    ),
    (re.compile(r"\s+plus\s+"), " + "),
    (re.compile(r"\s+minus\s+"), " - "),
    (re.compile(r"\s+(?:times|multiplied\s+by|x)\s+"), " * "),
    (re.compile(r"\s+(?:divided\s+by|over)\s+"), " / "),
    (re.compile(r"\s+(?:mod|modulo)\s+"), " % "),
]
_ARITHMETIC = re.compile(r"(?:[\d.\s()+\-*/%^]|\*\*|sqrt\()+")


def spelled_number(phrase: str) -> int | None:
    """The value of a number written in words ("forty-two", "one hundred and five")."""
    total = current = 0
    for word in re.split(r"[\s-]+", phrase.lower()):
        if word == "and":
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in _SCALES:
            total += (current or 1) * _SCALES[word]
            current = 0
        else:
            return None
    return total + current


def _digits(text: str) -> str:
    """Numbers in words and with thousands separators, written as digits."""
    text = _THOUSANDS.sub(lambda m: m.group().replace(",", ""), text)

    def number(match: re.Match[str]) -> str:
        value = spelled_number(match.group())
        return str(value) if value is not None else match.group()

    return _SPELLED.sub(number, text)


def symbolic(text: str) -> str | None:
    """``text`` as an arithmetic expression, or None when it is not (only) arithmetic.

    An expression already written with symbols comes back as it is (thousands separators
    dropped); a word this module does not know makes the whole text None.
    """
    if len(text) > MAX_SAID:  # arithmetic said in words is short; the rules are not linear
        return None
    phrase = _digits(" ".join(text.lower().split())).strip(" ?.!=")
    phrase = _ASKING.sub("", phrase, count=1).strip(" ?.!=")
    if not phrase or not re.search(r"\d", phrase):
        return None
    for pattern, form in _PREFIX:
        if match := pattern.fullmatch(phrase):
            return form.format(*match.groups())
    for pattern, replacement in _INFIX:
        phrase = pattern.sub(replacement, phrase)
    phrase = " ".join(phrase.split())
    if not _ARITHMETIC.fullmatch(phrase) or not re.search(r"\d", phrase):
        return None
    return phrase
