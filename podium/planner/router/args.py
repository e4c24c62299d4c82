"""Fills a tool's arguments from request text, guided by each parameter's JSON-schema type."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from podium.planner.router import lists as lists
from podium.planner.router import names as names
from podium.planner.router import spans as spans
from podium.planner.router import values as values
from podium.planner.router.extract import Extraction, first_sentence, hints
from podium.planner.router.patterns import (
    EMAIL,
    EXPRESSION,
    FALSE_WORDS,
    ID_WORDS,
    IDENTIFIER,
    PATH,
    QUOTED,
    TRUE_WORDS,
    URL,
    VERSION,
)
from podium.planner.router.text import name_parts, words


def _numeric(spec: dict[str, Any]) -> bool:
    return spec.get("type") in ("integer", "number", "float") and "enum" not in spec


_EXAMPLE = re.compile(r"(?:e\.g\.|such as|for example|like)\s*[\"'“]?([^\"'”,;)]+)[\"'”]?")


def _shape(example: str) -> re.Pattern[str] | None:
    """A pattern for values shaped like ``example`` ("Europe/Paris" -> Word/Word)."""
    example = example.strip().rstrip(".")
    if re.fullmatch(r"[A-Z]{2,6}", example):  # a code: airport, currency, ticker
        return re.compile(rf"\b[A-Z]{{{len(example)}}}\b")
    if re.fullmatch(r"\d+ [a-z]+", example):  # an amount of something: "2 weeks"
        return re.compile(r"\b\d+ " + re.escape(example.split()[1]).rstrip("s") + r"s?\b")
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
    """A string parameter's value, by the first rule that finds one.

    The rules: a value shaped like the description's example, a typed pattern (email,
    URL, path, version), a folder, a unit, an identifier, a year, a quote, an expression, a name.
    """
    rules = (
        _by_example,
        _by_pattern,
        _folder,
        _unit,
        _identifier,
        _year,
        _quote,
        _expression,
        _name,
    )
    for rule in rules:
        value = rule(name, spec, found)
        if value is not None:
            found.taken.add(value)
            return _as_listed(value, spec)
    return None


def _as_listed(value: str, spec: dict[str, Any]) -> str:
    """``value`` as the description lists it: "tablespoons" -> 'tablespoon'."""
    listed = QUOTED.findall(str(spec.get("description", "")))
    options = [next(g for g in groups if g) for groups in listed]
    folded = words(value)
    return next((o for o in options if words(o) == folded and folded), value)


def _by_example(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    example = _EXAMPLE.search(str(spec.get("description", "")))
    shape = _shape(example.group(1)) if example else None
    if shape is None:
        return None
    value = next(
        (m.group() for m in shape.finditer(found.text) if m.group() not in found.taken), None
    )
    found.strong += value is not None
    return value


def _by_pattern(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    kind = f"{spec.get('format', '')} {name} {first_sentence(spec)}".lower()
    for pattern, keys in (
        (EMAIL, ("email",)),
        (URL, ("uri", "url", "link")),
        (PATH, ("path", "file")),
        (VERSION, ("version", "release", "tag")),
    ):
        if any(k in kind for k in keys) and (match := pattern.search(found.text)):
            found.strong += 1
            return match.group()
    return None


_FOLDER_WORDS = frozenset({"directory", "dir", "folder"})
# "in docs", "under the docs folder", "inside directory 'src'": the word a place-word names.
_IN_FOLDER = re.compile(
    r"\b(?:in|inside|under|within|from)\s+(?:the\s+)?(?:(?:folder|directory|dir)\s+)?"
    r"[\"'`]?([A-Za-z_][\w.-]*)/?[\"'`]?",
    re.IGNORECASE,
)
_NOT_A_FOLDER = frozenset(
    "the this that my our your a an it here there current sandbox folder directory dir "
    "root top".split()
)


def _folder(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    """A directory parameter: a path in the text, else the folder named after "in"/"under".

    "list the files in docs" names ``docs``; "in the sandbox" or "in this folder" names no
    folder, and the parameter keeps its default.
    """
    if not _FOLDER_WORDS & set(name_parts(name)):
        return None
    path = PATH.search(found.text)
    if path and path.group() not in found.taken:
        found.strong += 1
        return path.group().rstrip("/")
    for match in _IN_FOLDER.finditer(found.text):
        word = match.group(1)
        if word.lower() not in _NOT_A_FOLDER and word.lower() not in found.tool_words:
            found.strong += 1
            return word
    return None


def _unit(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    if "unit" not in name_parts(name) and not name.lower().endswith("_unit"):
        return None
    return values.unit_value(name, spec, found.text, name in found.required)


def _quote(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    """The quote the parameter's word names, else the first quote no other word names.

    An author takes the name after "by" instead of a quote.
    """
    quote = found.claims.get(name)
    if quote is None and names.PERSON_WORDS & set(name_parts(name)):
        return names.name_value(
            name, found.text, found.proper_names, found.taken, found.tool_words, cued_only=True
        )
    if quote is None:
        claimed = set(found.claims.values())
        quote = next((q for q in found.quoted if q not in claimed), None)
    if quote is not None:
        found.strong += 1
        if quote in found.quoted:
            found.quoted.remove(quote)
    return quote


def _identifier(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    """An identifier: one with letters ("A-7") anywhere, or a named number.

    A bare number ("1234") counts only right after a word of the parameter's name
    ("order 1234", "id: 881").
    """
    if not set(name_parts(name)) & set(ID_WORDS):
        return None
    text = found.text
    free = [m for m in IDENTIFIER.finditer(text) if m.group() not in found.taken]
    own = "|".join(re.escape(h) for h in hints(name, spec)[:3] if h)
    named = re.compile(rf"\b(?:{own})\w*\W{{0,3}}(?:(?:number|no|id|#)\W{{0,2}})?$", re.I)
    value = next((m.group() for m in free if not m.group().isdigit()), None)
    if value is None and own:
        value = next(
            (m.group() for m in free if named.search(text[max(0, m.start() - 40) : m.start()])),
            None,
        )
    if value is not None:
        found.strong += 1
        found.numbers = [(p, n) for p, n in found.numbers if str(n) != value]
    return value


def _expression(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    if not any(k in name.lower() for k in ("expression", "formula", "equation", "expr")):
        return None
    match = EXPRESSION.search(found.text)
    found.strong += match is not None
    return match.group().strip() if match else None


def _year(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    """A year for a string parameter named for one ("year", "season")."""
    if not set(name_parts(name)) & {"year", "season"}:
        return None
    match = re.search(r"\b(?:1[5-9]|20)\d\d(?:-(?:1[5-9]|20)?\d\d)?\b", found.text)
    if match is None:
        return None
    found.numbers = [(p, n) for p, n in found.numbers if not match.start() <= p < match.end()]
    return match.group()


def _name(name: str, spec: dict[str, Any], found: Extraction) -> str | None:
    if not names.takes_name(name) or spans.side(name):
        return None
    others = {
        part for other in found.parameters if other != name for part in set(name_parts(other))
    }
    regions = not others & names.PLACE_WORDS
    return names.name_value(
        name, found.text, found.proper_names, found.taken, found.tool_words, regions=regions
    )


def _says(text: str, option: Any) -> int:
    """Where ``text`` names an option as a word of its own (1-based; 0 when it does not).

    "G" is not named by "Generate".
    """
    # A short option is a code ("A", "GB") and keeps its case: "a" is no "A".
    flags = re.IGNORECASE if len(str(option)) > 2 else 0
    match = re.search(rf"(?<![\w-]){re.escape(str(option))}(?![\w-])", text, flags)
    return match.start() + 1 if match else 0


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
        value = next((v for v in spec["enum"] if _says(found.text, v)), None)
        found.strong += value is not None
        return value
    if kind in ("integer", "number"):
        value = found.take_number(hints(name, spec))
        if value is not None and kind == "integer" and isinstance(value, float):
            return int(value) if value.is_integer() else None
        return value
    if kind == "boolean":
        tokens = set(re.findall(r"[a-z]+", found.text.lower()))
        if tokens & FALSE_WORDS:
            return False
        return True if tokens & TRUE_WORDS or set(hints(name, spec)) & tokens else None
    if kind == "array":
        items = spec.get("items", {}).get("type")
        options = spec.get("items", {}).get("enum")
        if options:  # the options the text names, in its order
            places = {o: _says(found.text, o) for o in options}
            named = [o for o in options if places[o]]
            found.strong += bool(named)
            return sorted(named, key=lambda o: places[o]) or None
        listed = found.take_list()
        if listed is not None:
            return listed
        if items in ("integer", "number"):
            return _number_list(name, found)
        if len(found.quoted) > 1:
            return list(found.quoted)
        return _word_list(name, found)
    if kind == "string" or kind is None:
        return _string_value(name, spec, found)
    return None


def _number_list(name: str, found: Extraction) -> list[float | int] | None:
    """The run of numbers the parameter names, else the first run left, else every number.

    "dataset_B with the values 15, 30, 45": dataset_B takes 15, 30 and 45.
    """
    runs = [r for r in lists.number_lists(found.text) if r[0] not in found.lists_taken]
    run = next((r for r in runs if lists.named(r[0], found.text, name)), None)
    run = run or (runs[0] if runs else None)
    if run is None:
        values = [v for _, v in found.numbers]
        found.numbers.clear()
        return values or None
    start, end, _ = run
    found.lists_taken.add(start)
    inside = [(p, v) for p, v in found.numbers if start <= p < end]
    found.numbers = [n for n in found.numbers if n not in inside]
    return [v for _, v in inside] or None


def _word_list(name: str, found: Extraction) -> list[str] | None:
    """A list written in prose ("Microsoft and Google").

    The one a word of the parameter names, else (for a required one) the first one left.
    """
    written = [
        w for w in lists.word_lists(found.text, found.tool_words) if w[0] not in found.lists_taken
    ]
    chosen = next((w for w in written if lists.named(w[0], found.text, name)), None)
    if chosen is None and name in found.required:
        chosen = written[0] if written else None
    if chosen is None:
        return list(found.quoted) or None
    found.lists_taken.add(chosen[0])
    found.taken.update(chosen[1])
    return chosen[1]


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
    """Short values for string parameters no typed rule filled (see spans.py)."""
    ends = _named_ends(spans.endpoints(found.text))
    candidates = _whole_names(spans.runs(found.text, set(tool_words), found.taken), found)
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
            run = spans.near_hint(candidates, found.text, hints(name, spec)[:2])
            if run is None and name in required and candidates:
                run = candidates[0]
            if run is not None:
                candidates.remove(run)
                value = run.text
        if value is not None:
            arguments[name] = value
            found.taken.add(value)


def _named_ends(ends: tuple[str, str] | None) -> tuple[str, str] | None:
    """The places of "from X to Y", cut to the names in them when they hold any.

    "between two cities, New York and Los Angeles avoiding highways" -> New York, Los
    Angeles: the last name of the first place, the first name of the second.
    """
    if ends is None:
        return None
    start, end = ends
    first, second = names.phrases(f"to {start}"), names.phrases(f"to {end}")
    if ", ".join(p.text for p in first) == start:  # "New York, USA": a place and its country
        return (start, second[0].text if second else end)
    return (first[-1].text if first else start, second[0].text if second else end)


def _whole_names(runs: list[spans.Run], found: Extraction) -> list[spans.Run]:
    """Runs inside a proper name grow to the whole name ("York" -> "New York")."""
    grown = []
    names = found.proper_names  # in reading order, apart: the last that starts first holds it
    starts = [p.start for p in names]
    for run in runs:
        at = bisect.bisect_right(starts, run.start) - 1
        around = names[at] if at >= 0 and run.end <= names[at].end else None
        if around is None:
            grown.append(run)
        elif around.text not in found.taken:  # part of a name another parameter took: no
            grown.append(around)
    return list(dict.fromkeys(grown))


FREE_TEXT = frozenset(
    """query text message content request note body prompt question description reason
    comment summary topic subject keyword keywords search term instructions""".split()
)


def _free_text(name: str) -> bool:
    """Whether a parameter takes free text (a query, a message) rather than a short value."""
    return bool(set(name_parts(name)) & FREE_TEXT)


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
    found.required = set(required)
    found.parameters = list(properties)
    found.claims = values.claims(found.text, [n for n in order if "enum" not in properties[n]])
    arguments: dict[str, Any] = values.date_arguments(order, properties, found)
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
