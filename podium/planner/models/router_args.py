"""Fills a tool's arguments from request text, guided by each parameter's JSON-schema type."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from podium.planner.models import router_spans as spans
from podium.planner.models.router_patterns import (
    BRACKETED,
    CODE,
    EMAIL,
    EXPRESSION,
    FALSE_WORDS,
    ID_WORDS,
    IDENTIFIER,
    ISO_DATE,
    NUMBER,
    NUMBER_WORD,
    NUMBER_WORDS,
    PATH,
    PROPER,
    QUOTED,
    TRUE_WORDS,
    URL,
    VERSION,
    number,
    scaled,
)
from podium.planner.models.router_text import words


@dataclass
class Extraction:
    """The typed values found in one clause, consumed as parameters take them."""

    text: str
    numbers: list[tuple[int, float | int]] = field(default_factory=list)
    spelled: list[tuple[int, int]] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    # How many values were found by a specific pattern (an expression, an email, an enum
    # value...): evidence that the text is meant for this tool, unlike a bare number.
    strong: int = 0
    taken: set[str] = field(default_factory=set)
    lists_taken: set[int] = field(default_factory=set)
    tool_words: frozenset[str] = frozenset()

    @classmethod
    def of(cls, text: str) -> Extraction:
        """Find the values in ``text``."""
        masked = CODE.sub(" ", URL.sub(" ", EMAIL.sub(" ", ISO_DATE.sub(" ", text))))
        numbers = [
            (m.start(), scaled(number(m.group()), masked[m.end() :]))
            for m in NUMBER.finditer(masked)
        ]
        # Spelled numbers ("is zero", "two bedrooms") count only where words name them.
        spelled = [
            (m.start(), NUMBER_WORDS[m.group().lower()]) for m in NUMBER_WORD.finditer(masked)
        ]
        quoted = [next(g for g in m.groups() if g) for m in QUOTED.finditer(text)]
        return cls(text=text, numbers=numbers, quoted=quoted, spelled=spelled)

    def context(self, position: int, previous: int | None) -> tuple[list[str], list[str], str]:
        """The words around the number at ``position``.

        Returned: the words before it (nearest last; none from before the ``previous``
        number and its unit), the word after it (its unit), and the raw token just before
        it ("a" in "a = 2").
        """
        start = max(0, position - 48)
        if previous is not None and previous < position:
            tail = re.match(r"\S+\s*(?:[A-Za-z/%^\d]+)?", self.text[previous:])
            start = max(start, previous + (tail.end() if tail else 0))
        before = self.text[start:position]
        rest = self.text[position:][:40]
        matched = NUMBER.match(rest) or NUMBER_WORD.match(rest)
        after = rest[matched.end() :] if matched else rest
        stripped = re.sub(r"\b(?:of|is|equals?|to|was)\s*$|[=:]\s*$", "", before.rstrip())
        token = re.findall(r"[A-Za-z_]\w*", stripped)
        return words(before)[-4:], words(after)[:1], token[-1].lower() if token else ""

    def assign_numbers(self, parameters: list[tuple[str, dict[str, Any], bool]]) -> dict[str, Any]:
        """Numbers for numeric parameters, each to the parameter its neighbouring words name.

        A number goes to the parameter named just before it ("a = 2", "base of 10"), else to
        the one whose name and description share its unit ("20 kg") or the nearest words
        before it ("for 5 seconds" -> time); numbers left over go, in order, to required
        parameters left over. Optional parameters only take a number that names them, and
        so do spelled numbers ("is zero").
        """
        profiles = {
            name: (set(_hints(name, spec)[:3]), set(words(str(spec.get("description", "")))))
            for name, spec, _ in parameters
        }
        candidates = self.numbers + list(self.spelled)
        starts = sorted(p for p, _ in candidates)
        pairs = []
        for index, (position, value) in enumerate(candidates):
            earlier = bisect.bisect_left(starts, position)  # the numbers before this one
            previous = starts[earlier - 1] if earlier else None
            before, unit, token = self.context(position, previous)
            for order, (name, spec, _) in enumerate(parameters):
                if not _fits(spec, value):
                    continue
                named, described = profiles[name]
                score = 10.0 if token == name.lower() else 0.0
                for weight, word in zip((1.0, 0.6, 0.3), reversed(before), strict=False):
                    score += 2 * weight if word in named else weight if word in described else 0
                # The unit right after a number ("20 kg") says most about what it measures.
                score += sum(3.0 if w in named or w in described else 0 for w in unit)
                if score:
                    pairs.append((-score, position, order, index, name))
        chosen: dict[str, Any] = {}
        used: set[int] = set()
        for _, _, _, index, name in sorted(pairs):
            if name not in chosen and index not in used:
                chosen[name] = candidates[index][1]
                used.add(index)
        free = [i for i in range(len(self.numbers)) if i not in used]
        for name, spec, required in parameters:
            if name in chosen or not required:
                continue
            leftover = next((i for i in free if _fits(spec, self.numbers[i][1])), None)
            if leftover is not None:
                chosen[name] = self.numbers[leftover][1]
                free.remove(leftover)
                used.add(leftover)
        self.numbers = [n for i, n in enumerate(self.numbers) if i not in used]
        return chosen

    def take_list(self) -> list[Any] | None:
        """The next bracketed list in the text ("[10, 15, 12]", "(33.4, 112.0)"), parsed.

        Its numbers are no longer free for other parameters.
        """
        for match in BRACKETED.finditer(self.text):
            if match.start() in self.lists_taken:
                continue
            items = [i.strip().strip("'\"") for i in match.group(1).split(",") if i.strip()]
            if len(items) < 2:
                continue
            self.lists_taken.add(match.start())
            inside = range(match.start(), match.end())
            self.numbers = [(p, n) for p, n in self.numbers if p not in inside]
            self.strong += 1
            parsed: list[Any] = []
            for item in items:
                try:
                    parsed.append(number(item))
                except ValueError:
                    parsed.append(item)
            return parsed
        return None

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


def _fits(spec: dict[str, Any], value: float | int) -> bool:
    """Whether a number suits a numeric parameter (an integer parameter takes no fraction)."""
    return spec.get("type") != "integer" or float(value).is_integer()


def _numeric(spec: dict[str, Any]) -> bool:
    return spec.get("type") in ("integer", "number", "float") and "enum" not in spec


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
        free = [m for m in IDENTIFIER.finditer(text) if m.group() not in found.taken]
        # One with letters ("A-7") is an identifier anywhere; a bare number ("1234") only
        # right after a word of the parameter's name ("order 1234", "id: 881").
        hints = "|".join(re.escape(h) for h in _hints(name, spec)[:3] if h)
        named = re.compile(rf"\b(?:{hints})\w*\W{{0,3}}(?:(?:number|no|id|#)\W{{0,2}})?$", re.I)
        value = next((m.group() for m in free if not m.group().isdigit()), None)
        if value is None and hints:
            value = next(
                (m.group() for m in free if named.search(text[max(0, m.start() - 40) : m.start()])),
                None,
            )
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
        for match in PROPER.finditer(text, 1):  # the first word is capitalized anyway
            known = set(words(match.group())) & found.tool_words
            if match.group() not in found.taken and not spans.side(name) and not known:
                found.taken.add(match.group())
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
        listed = found.take_list()
        if listed is not None:
            return listed
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


def _spans(
    order: list[str],
    properties: dict[str, Any],
    required: list[str],
    arguments: dict[str, Any],
    found: Extraction,
    tool_words: frozenset[str],
) -> None:
    """Short values for string parameters no typed rule filled (see router_spans)."""
    ends = spans.endpoints(found.text)
    candidates = spans.runs(found.text, set(tool_words), found.taken)
    for name in order:
        spec = properties.get(name, {})
        if name in arguments or spec.get("type", "string") != "string" or _free_text(name):
            continue
        value: str | None = None
        where = spans.side(name)
        if ends and where:
            value = ends[0] if where == "start" else ends[1]
        about = f"{name} {spec.get('description', '')}".lower()
        if value is None and re.search(r"function|equation|formula|polynomial|expression", about):
            value = spans.expression(found.text)
        if value is None:
            run = spans.near_hint(candidates, found.text, _hints(name, spec)[:2])
            if run is None and name in required and candidates:
                run = candidates[0]
            if run is not None:
                candidates.remove(run)
                value = run.text
        if value is not None:
            arguments[name] = value
            found.taken.add(value)


FREE_TEXT = frozenset(
    """query text message content request note body prompt question description reason
    comment summary topic subject keyword keywords search term instructions""".split()
)


def _free_text(name: str) -> bool:
    """Whether a parameter takes free text (a query, a message) rather than a short value."""
    return bool(set(re.split(r"[_\W]+", name.lower())) & FREE_TEXT)


def fill_arguments(
    parameters: dict[str, Any],
    text: str,
    fallback_text: str | None = None,
    tool_words: frozenset[str] = frozenset(),
) -> Filled:
    """Arguments for a schema from ``text``, and the required parameters left unfilled.

    A required free-text parameter (a query, a message) that no typed rule fills receives
    ``fallback_text``: the clause with the tool's own words taken out. Other string
    parameters take short spans: the words of the text that ``tool_words`` (the tool's own
    name and description) do not explain.
    """
    found = Extraction.of(text)
    found.tool_words = tool_words
    properties: dict[str, Any] = parameters.get("properties", {})
    required = list(parameters.get("required", []))
    order = required + [p for p in properties if p not in required]
    numeric = [(n, properties[n], n in required) for n in properties if _numeric(properties[n])]
    arguments: dict[str, Any] = {}
    for name, value in found.assign_numbers(numeric).items():
        spec = properties[name]
        arguments[name] = int(value) if spec.get("type") == "integer" else value
    for name in order:
        if name in arguments or _numeric(properties.get(name, {})):
            continue
        value = _fill(name, properties.get(name, {}), found)
        if value is not None:
            arguments[name] = value
    _spans(order, properties, required, arguments, found, tool_words)
    missing = [p for p in required if p not in arguments]
    for name in list(missing):
        is_string = properties.get(name, {}).get("type", "string") == "string"
        if is_string and fallback_text and _free_text(name):  # others took spans above
            arguments[name] = fallback_text
            missing.remove(name)
            fallback_text = None  # one free-text parameter per clause
    return Filled(arguments, missing, found.strong)
