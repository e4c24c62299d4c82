"""The typed values the router recognises in text: numbers, codes, dates, paths, emails."""

from __future__ import annotations

import re

NUMBER = re.compile(r"(?<![\w.^])-?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]*\d)")
BRACKETED = re.compile(r"[\[(]([^\[\]()]{1,400})[\])]")
# A single quote opens a quotation only where no letter is before it ("What's" is no quote).
QUOTED = re.compile(r"\"([^\"]+)\"|(?<!\w)'((?:[^']|(?<=\w)'(?=\w)){1,2000})'(?!\w)|“([^”]+)”")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"https?://[^\s\"'<>]+")
VERSION = re.compile(r"\bv?\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
PATH = re.compile(
    r"(?<![\w.-])(?:[\w.-]{1,255}/)+[\w.-]+|(?<![\w-])[\w-]+\.(?:txt|md|csv|json|ya?ml|py|log|toml)\b"
)
# A run of numbers joined by arithmetic operators, with optional parentheses and spaces.
# Linear time: possessive runs never give back what cannot help, and a match never starts
# inside a run of digits, spaces or "-(" (the run's start gives the same match, and is
# leftmost); without that, 12 KB of digits took 18 s to search.
EXPRESSION = re.compile(
    r"(?<![-(])(?!(?<=\s)\s)(?!(?<=\d)\d)"
    r"[-(]*+\s*+\d++(?:\.\d+)?+\s*+\)*+"
    r"(?:\s*+(?>\*\*|[-+*/%^])\s*+[(]*+\s*+-?+\d++(?:\.\d+)?+\s*+\)*+)+"
)
# An identifier: letters, digits, '-' or '_' with at least one digit ("A-2", "INV_0042", "881").
IDENTIFIER = re.compile(r"(?<![\w.@/-])(?=[\w-]*\d)[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*(?![\w@/-])")
# Letters, a separator, then digits ("A-7", "INV_0042"): an identifier, never a number.
CODE = re.compile(r"\b[A-Za-z]+[-_]\d[\w-]*")
ID_WORDS = ("id", "ids", "number", "code", "ref", "reference", "sku", "ticket", "key")
# What a number with a currency sign or a percent sign measures, as a parameter would say it.
MONEY_WORDS = ("amount", "money", "dollar", "price", "cost", "invest", "principal", "payment")
PERCENT = re.compile(r"(?<!\d)\d++(?:\.\d+)?+(?=\s?(?:%|percent\b))")  # linear, as above
PERCENT_WORDS = ("percent", "percentage", "rate")
TRUE_WORDS = frozenset({"true", "yes", "enable", "enabled", "with", "include", "including"})
FALSE_WORDS = frozenset({"false", "no", "disable", "disabled", "without", "exclude"})


NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "twenty": 20,
    "hundred": 100,
}
NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(NUMBER_WORDS)})\b", re.IGNORECASE)
SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}


def scaled(value: float | int, after: str) -> float | int:
    """``value`` times the scale word that follows it ("50 million")."""
    word = re.match(r"\s*([a-z]+)", after)
    factor = SCALES.get(word.group(1)) if word else None
    if factor is None:
        return value
    scaled = value * factor
    return int(scaled) if float(scaled).is_integer() else scaled


def number(text: str) -> float | int:
    """The value of a number as written ("1,200" -> 1200, "2.5", "1e-9")."""
    value = float(text.replace(",", ""))
    plain = "." not in text and "e" not in text.lower()
    return int(value) if value.is_integer() and plain else value
