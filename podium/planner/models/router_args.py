"""Fills a tool's arguments from request text, guided by each parameter's JSON-schema type."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from podium.planner.models.router_text import words

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w.]*\d)")
QUOTED = re.compile(r"\"([^\"]+)\"|'([^']+)'|“([^”]+)”")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"https?://[^\s\"'<>]+")
VERSION = re.compile(r"\bv?\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
PATH = re.compile(r"(?:[\w.-]+/)+[\w.-]+|\b[\w-]+\.(?:txt|md|csv|json|ya?ml|py|log|toml)\b")
# A run of numbers joined by arithmetic operators, with optional parentheses and spaces.
EXPRESSION = re.compile(
    r"[-(]*\s*\d+(?:\.\d+)?\s*\)*(?:\s*(?:\*\*|[-+*/%^])\s*[(]*\s*-?\d+(?:\.\d+)?\s*\)*)+"
)
# An identifier: letters, digits, '-' or '_' with at least one digit ("A-2", "INV_0042", "881").
IDENTIFIER = re.compile(r"(?<![\w.@/-])(?=[\w-]*\d)[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*(?![\w@/-])")
# Letters, a separator, then digits ("A-7", "INV_0042"): an identifier, never a number.
CODE = re.compile(r"\b[A-Za-z]+[-_]\d[\w-]*")
ID_WORDS = ("id", "ids", "number", "code", "ref", "reference", "sku", "ticket", "key")
PROPER = re.compile(r"\b[A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)*")
TRUE_WORDS = frozenset({"true", "yes", "enable", "enabled", "with", "include", "including"})
FALSE_WORDS = frozenset({"false", "no", "disable", "disabled", "without", "exclude"})


def _number(text: str) -> float | int:
    value = float(text.replace(",", ""))
    return int(value) if value.is_integer() and "." not in text else value


@dataclass
class Extraction:
    """The typed values found in one clause, consumed as parameters take them."""

    text: str
    numbers: list[tuple[int, float | int]] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    # How many values were found by a specific pattern (an expression, an email, an enum
    # value...): evidence that the text is meant for this tool, unlike a bare number.
    strong: int = 0
    taken: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, text: str) -> Extraction:
        """Find the values in ``text``."""
        masked = CODE.sub(" ", URL.sub(" ", EMAIL.sub(" ", ISO_DATE.sub(" ", text))))
        numbers = [(m.start(), _number(m.group())) for m in NUMBER.finditer(masked)]
        quoted = [next(g for g in m.groups() if g) for m in QUOTED.finditer(text)]
        return cls(text=text, numbers=numbers, quoted=quoted)

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


def _hints(name: str, spec: dict[str, Any]) -> list[str]:
    hints = [w for w in re.split(r"[_\W]+", name.lower()) if len(w) > 1]
    return hints + words(str(spec.get("description", "")))[:2]


_EXAMPLE = re.compile(r"(?:e\.g\.|such as|for example|like)\s*[\"'“]?([^\"'”,;)]+)[\"'”]?")


def _shape(example: str) -> re.Pattern[str] | None:
    """A pattern for values shaped like ``example`` ("Europe/Paris" -> Word/Word)."""
    example = example.strip().rstrip(".")
    if re.fullmatch(r"[A-Z]{2,6}", example):  # a code: airport, currency, ticker
        return re.compile(rf"\b[A-Z]{{{len(example)}}}\b")
    if not re.search(r"[^\w\s]|\d", example) or " " in example:
        return None  # a plain word says too little about the shape of other values
    parts = []
    for token in re.findall(r"[A-Z][a-z]+|[a-z]+|[A-Z]+|\d+|.", example):
        if token.isdigit():
            parts.append(r"\d+")
        elif token[0].isupper() and token[1:].islower():
            parts.append(r"[A-Z][a-z]+")
        elif token.isalpha():
            parts.append("[A-Za-z]+" if token.isupper() else "[a-z]+")
        else:
            parts.append(re.escape(token))
    return re.compile(r"(?<![\w/])" + "".join(parts) + r"(?![\w/])")


def _string_value(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    text, lowered_name = found.text, name.lower()
    example = _EXAMPLE.search(str(spec.get("description", "")))
    shape = _shape(example.group(1)) if example else None
    if shape:
        value = next(
            (m.group() for m in shape.finditer(text) if m.group() not in found.taken), None
        )
        if value is not None:
            found.strong += 1
            found.taken.add(value)
            return value
    kind = str(spec.get("format", "")) + " " + lowered_name
    for pattern, keys in (
        (EMAIL, ("email",)),
        (URL, ("uri", "url", "link")),
        (ISO_DATE, ("date", "day")),
        (PATH, ("path", "file")),
        (VERSION, ("version", "release", "tag")),
    ):
        if any(k in kind for k in keys) and (match := pattern.search(text)):
            found.strong += 1
            return match.group()
    if found.quoted:
        found.strong += 1
        return found.quoted.pop(0)
    if set(re.split(r"[_\W]+", lowered_name)) & set(ID_WORDS):
        free = [m.group() for m in IDENTIFIER.finditer(text) if m.group() not in found.taken]
        # One with letters ("A-7") says "identifier" more surely than a bare number ("20").
        value = next((v for v in free if not v.isdigit()), free[0] if free else None)
        if value is not None:
            found.strong += 1
            found.taken.add(value)
            found.numbers = [(p, n) for p, n in found.numbers if str(n) != value]
            return value
    if any(k in lowered_name for k in ("expression", "formula", "equation", "expr")):
        match = EXPRESSION.search(text)
        if match:
            found.strong += 1
        return match.group().strip() if match else None
    if any(k in lowered_name for k in ("city", "location", "country", "name", "place", "company")):
        match = PROPER.search(text[1:])  # the first word is capitalized anyway
        if match:
            return match.group()
    return None


def _fill(name: str, spec: dict[str, Any], found: Extraction) -> Any:
    kind = spec.get("type")
    if "anyOf" in spec:
        kinds = [s for s in spec["anyOf"] if s.get("type") != "null"]
        if kinds:
            spec, kind = (
                {**kinds[0], "description": spec.get("description", "")},
                kinds[0].get("type"),
            )
    if "enum" in spec:
        lowered = found.text.lower()
        value = next((v for v in spec["enum"] if str(v).lower() in lowered), None)
        found.strong += value is not None
        return value
    if kind in ("integer", "number"):
        value = found.take_number(_hints(name, spec))
        if value is not None and kind == "integer" and isinstance(value, float):
            return int(value) if value.is_integer() else None
        return value
    if kind == "boolean":
        tokens = set(re.findall(r"[a-z]+", found.text.lower()))
        if tokens & FALSE_WORDS:
            return False
        return True if tokens & TRUE_WORDS or set(_hints(name, spec)) & tokens else None
    if kind == "array":
        items = spec.get("items", {}).get("type")
        if items in ("integer", "number"):
            values = [v for _, v in found.numbers]
            found.numbers.clear()
            return values or None
        return list(found.quoted) or None
    if kind == "string" or kind is None:
        return _string_value(name, spec, found)
    return None


@dataclass(frozen=True)
class Filled:
    """The arguments found for one tool, what is still missing, and how specific they were."""

    arguments: dict[str, Any]
    missing: list[str]
    strong: int


def fill_arguments(
    parameters: dict[str, Any], text: str, fallback_text: str | None = None
) -> Filled:
    """Arguments for a schema from ``text``, and the required parameters left unfilled.

    A required free-text parameter (a query, a message) that no typed rule fills receives
    ``fallback_text``: the clause with the tool's own words taken out.
    """
    found = Extraction.of(text)
    properties: dict[str, Any] = parameters.get("properties", {})
    required = list(parameters.get("required", []))
    order = required + [p for p in properties if p not in required]
    arguments: dict[str, Any] = {}
    for name in order:
        value = _fill(name, properties.get(name, {}), found)
        if value is not None:
            arguments[name] = value
    missing = [p for p in required if p not in arguments]
    for name in list(missing):
        if properties.get(name, {}).get("type", "string") == "string" and fallback_text:
            arguments[name] = fallback_text
            missing.remove(name)
            fallback_text = None  # one free-text parameter per clause
    return Filled(arguments, missing, found.strong)
