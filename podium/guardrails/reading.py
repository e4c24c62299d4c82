r"""A text as the model reads it: a serialization decoded into its values, each with its path.

Tool output is often JSON (or JSON Lines), a Python repr or YAML. Screened as one string,
its escapes glue words together ("Hi,\\nIgnore" reads "nIgnore") and one value's
instructions hide among the others. Decoded, each string value is screened on its own and
named by its path (``$.emails[2].body``), and a flagged value can be withheld while the rest
stays.

Keys are text the model reads too, and so are YAML comments (the parse drops them): both are
values. Bounded: texts over ``MAX_PARSE_CHARS`` (``MAX_SLOW_PARSE_CHARS`` for Python and
YAML, whose parsers are slow), and data holding more than ``MAX_VALUES``
strings or ``MAX_NODES`` nodes (YAML aliases expand a short text into a huge graph), are
read as plain text (screened whole, escapes read; never a value left out unscreened);
nesting of any depth is walked without recursion, and a parser that gives up on it (Python's
JSON and literal parsers stop near a thousand levels) leaves plain text.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from podium.guardrails import deadline

Form = Literal["text", "json", "jsonl", "python", "yaml"]
# What a value is: a string, a key, the keys of nested mappings read in a row, or a number,
# boolean or null (read only with its neighbours: alone it says nothing).
Kind = Literal["text", "key", "row", "scalar"]
MAX_PARSE_CHARS = 1_000_000
# Python's and YAML's parsers take 1-2 s a megabyte, in C that no deadline stops: past this
# a text is read as Python or YAML no more, as plain text (every character still screened).
MAX_SLOW_PARSE_CHARS = 200_000
MAX_VALUES = 5_000
# Nodes walked at most (mappings, lists, numbers...): YAML aliases let a few hundred
# characters name a graph of billions of nodes, which a walk would expand.
MAX_NODES = 50_000
# A value that is itself a serialization (JSON inside a JSON string) is decoded again, this
# many times at most.
MAX_NESTED = 2

TOO_DEEP = "[withheld by a guard: nested too deeply to rebuild]"
_YAML_SHAPE = re.compile(r"^(?:- |[\w\"'][\w \"'.-]{0,60}:(?: |$))", re.MULTILINE)
_YAML_COMMENT = re.compile(r"(?:^|[ \t])#[ \t]?([^\n]*)", re.MULTILINE)


@dataclass(frozen=True)
class Value:
    """One string of a decoded text and where it sits (``$`` for the whole of a plain text)."""

    path: str
    text: str
    # Decoded from inside the string at ``path`` (JSON in a JSON string): withholding any of
    # it withholds that whole string.
    inner: bool = False
    kind: Kind = "text"


@dataclass(frozen=True)
class Reading:
    """A text decoded: its form, its parsed data and its string values in order."""

    form: Form
    values: tuple[Value, ...]
    data: Any = None
    # YAML too long to parse, read as plain text: a folded value's lines are one sentence to
    # the model, so the text is judged with its lines run together too
    unparsed_yaml: bool = False
    source: str = ""  # JSON Lines: the text, whose records are kept as written unless changed

    def rebuild(self, replaced: dict[str, str]) -> str:
        """The text again, in its own form, with the values at ``replaced``'s paths replaced."""
        if self.form == "text":
            return replaced.get("$", self.values[0].text if self.values else "")
        if self.form == "jsonl":
            return self._records(replaced)
        data = _replace(self.data, replaced)
        try:
            if self.form == "json":
                return json.dumps(data, ensure_ascii=False, indent=2)
            if self.form == "python":
                return repr(data)
            import yaml

            dumped: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
            return dumped
        except RecursionError:  # deeper than a writer goes (YAML's recurses sooner)
            return TOO_DEEP

    def _records(self, replaced: dict[str, str]) -> str:
        """JSON Lines again: each record as it was written, one with a value replaced anew.

        Each record is rebuilt on its own, so a record too deep to rebuild is the only one
        that goes whole (as ``TOO_DEEP``).
        """
        by_record: dict[int, dict[str, str]] = {}  # each record's paths, from its own root
        for path, note in replaced.items():
            if found := _RECORD_ROOT.match(path):
                by_record.setdefault(int(found.group(1)), {})["$" + path[found.end() :]] = note
        lines, index = self.source.split("\n"), 0
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            if mine := by_record.get(index):  # (its indent and CR kept)
                record = _replace(self.data[index], mine)
                try:
                    written = json.dumps(record, ensure_ascii=False)
                except (RecursionError, ValueError):
                    written = json.dumps(TOO_DEEP)
                indent = line[: len(line) - len(line.lstrip())]
                lines[number] = indent + written + ("\r" if line.endswith("\r") else "")
            index += 1
        return "\n".join(lines)


def _parse(text: str) -> tuple[Form, Any] | None:
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_PARSE_CHARS:
        return None
    try:
        if stripped[0] in '[{"':
            try:
                return "json", json.loads(stripped, object_pairs_hook=_unique)
            except _Duplicate:
                return None  # a parse keeps one of the values the model reads both of
            except ValueError:
                lines = _json_lines(stripped)
                if lines is not None:
                    return "jsonl", lines
        slow = len(stripped) <= MAX_SLOW_PARSE_CHARS
        if slow and stripped[0] in "[{(\"'":
            deadline.check()  # a check past its screen's timeout stops between parses
            try:
                with warnings.catch_warnings():  # text that is not Python ("1st") warns
                    warnings.simplefilter("ignore", SyntaxWarning)
                    tree = ast.parse(stripped, mode="eval")
                    data = ast.literal_eval(tree)
                return None if _repeats_a_key(tree) else ("python", data)
            except (ValueError, SyntaxError, TypeError, MemoryError):
                pass
        if slow and len(_YAML_SHAPE.findall(stripped)) >= 2:
            deadline.check()
            return _yaml(stripped)
    except RecursionError:  # nested past what the parser takes: read as plain text
        return None
    return None


_RECORD_ROOT = re.compile(r"\$\[(\d+)\](?=$|[.\[~])")  # a JSON Lines record's path


def _json_lines(text: str) -> list[Any] | None:
    """The records of JSON Lines (a log, an export: one JSON value a line), or None.

    Read as a list of records, an order spelt over several records' strings is read in a
    row like any list's; a record with nothing replaced is written back as it came.
    """
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 2 or not all(line.lstrip()[:1] in "[{" for line in lines):
        return None
    try:
        return [json.loads(line, object_pairs_hook=_unique) for line in lines]
    except ValueError:  # (a key given twice too: read as plain text)
        return None


class _Duplicate(ValueError):
    """A mapping names a key twice: a parse keeps one value, the model reads both."""


def _unique(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Duplicate
    return dict(pairs)


def _repeats_a_key(tree: ast.AST) -> bool:
    """Whether a dict display of the literal names a key twice, or two keys that are equal.

    ``{1: ..., True: ...}`` and ``{0: ..., 0.0: ...}`` are written differently and parse as
    one key: the parse keeps one value, the model reads both.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [key for key in node.keys if key is not None]
            try:
                distinct = {ast.literal_eval(key) for key in keys}
            except (ValueError, TypeError):  # (the whole parsed: its keys do too)
                return True
            if len(distinct) != len(keys):
                return True
    return False


@functools.cache
def _yaml_loader() -> Any:
    """The safe loader, refusing a mapping that names a key twice (PyYAML keeps the last)."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class UniqueKeys(base):  # type: ignore[misc,valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            # A merge key (<<) folds another mapping in, its values first and some dropped:
            # read as plain text, like a key given twice.
            if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
                raise yaml.YAMLError("a merge key")
            scalars = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
            if len(set(scalars)) != len(scalars):
                raise yaml.YAMLError("a key is given twice")
            mapping = super().construct_mapping(node, deep=deep)
            if len(mapping) != len(node.value):  # keys written apart that are equal: 1, true
                raise yaml.YAMLError("two keys are equal")
            return mapping

    return UniqueKeys


def _yaml(text: str) -> tuple[Form, Any] | None:
    import yaml

    try:
        data = yaml.load(text, Loader=_yaml_loader())
    except (yaml.YAMLError, ValueError):  # (a lone surrogate: UnicodeEncodeError)
        return None
    return ("yaml", data) if isinstance(data, dict | list) else None


def _walk(data: Any) -> list[Value]:
    """Every string in ``data`` with its path, in the order the model reads them, no recursion.

    Keys are values too, each just before its value; so are the keys of nested mappings
    read in a row (a sentence can be spelt one short key a level), named by the outermost
    mapping of the row.
    """
    found: list[Value] = []
    # (path, item, the keys above it in a row of mappings, the path of the row's first);
    # an item that is already a Value (a key) is read as it is
    stack: list[tuple[str, Any, tuple[str, ...], str]] = [("$", data, (), "$")]
    walked = scalars = 0
    while stack:
        walked += 1
        if len(found) - scalars > MAX_VALUES or walked > MAX_NODES:
            raise _TooMany
        path, item, row, first = stack.pop()
        if isinstance(item, Value):
            found.append(item)
        elif item is None or isinstance(item, bool | int | float):
            scalars += 1
            found.append(Value(path, json.dumps(item), kind="scalar"))
        elif isinstance(item, str):
            found.append(Value(path, item))
        elif isinstance(item, bytes | bytearray):  # read as the text it holds
            found.append(Value(path, bytes(item).decode("utf-8", "replace")))
        elif isinstance(item, set | frozenset):  # no order, no path: withheld as one
            for inner in _walk(sorted(item, key=repr)):
                found.append(Value(path, inner.text, inner=True, kind=inner.kind))
        elif isinstance(item, dict):
            first = first if row else path
            children: list[tuple[str, Any, tuple[str, ...], str]] = []
            for key, value in item.items():
                keys = row
                if isinstance(key, str) and key.strip():  # a key is text the model reads
                    children.append((path, Value(f"{path}~key", key, kind="key"), (), ""))
                    keys = (*row, key)
                    if len(keys) > 1:
                        spelt = Value(f"{first}~key", " ".join(keys), kind="row")
                        children.append((path, spelt, (), ""))
                elif isinstance(key, tuple | bytes | frozenset):  # a key holding text
                    children += [
                        (path, Value(f"{path}~key", inner.text, kind="key"), (), "")
                        for inner in _walk(key)
                        if inner.kind != "scalar"
                    ]
                named = f"{path}.{key}" if _plain_key(key) else f"{path}[{key!r}]"
                children.append((named, value, keys, first))
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(f"{path}[{i}]", v, (), "") for i, v in enumerate(item)]))
    return found


class _TooMany(Exception):
    """More strings than ``MAX_VALUES``: the text is read as plain text instead."""


def _plain_key(key: object) -> bool:
    return isinstance(key, str) and key.isidentifier()


def _replace(data: Any, replaced: dict[str, str]) -> Any:
    """A copy of ``data`` with the strings at the given paths replaced."""

    def copy(path: str, item: Any) -> Any:
        if path in replaced:  # a string, or what went whole (a set, bytes)
            return replaced[path]
        if isinstance(item, dict):
            if f"{path}~key" in replaced:  # a flagged key: the mapping goes as its note
                return replaced[f"{path}~key"]
            return {
                key: copy(f"{path}.{key}" if _plain_key(key) else f"{path}[{key!r}]", value)
                for key, value in item.items()
            }
        if isinstance(item, list | tuple):
            items = [copy(f"{path}[{i}]", v) for i, v in enumerate(item)]
            return items if isinstance(item, list) else tuple(items)
        return item

    try:
        return copy("$", data)
    except RecursionError:  # deeper than a copy can go: nothing of it is shown
        return TOO_DEEP


@functools.lru_cache(maxsize=16)
def read(text: str) -> Reading:
    """``text`` decoded into its string values, or one value when it is plain text.

    Cached: the injection checks of one boundary read the same text.
    """
    parsed = _parse(text)
    if parsed is None:
        stripped = text.strip()
        too_long = MAX_SLOW_PARSE_CHARS < len(stripped) <= MAX_PARSE_CHARS
        yaml_shaped = too_long and len(_YAML_SHAPE.findall(stripped, 0, 100_000)) >= 2
        return Reading("text", (Value("$", text),), unparsed_yaml=yaml_shaped)
    form, data = parsed
    if isinstance(data, str):
        return Reading("text", (Value("$", data),))
    try:
        nested: list[Value] = []
        for value in _walk(data):
            nested += _nested(value, MAX_NESTED)
    except _TooMany:
        return Reading("text", (Value("$", text),))
    if form == "yaml":  # the parse drops comments; the model reads them (a rebuild drops them)
        nested += [
            Value(f"$~comment[{i}]", found.group(1))
            for i, found in enumerate(_YAML_COMMENT.finditer(text))
            if found.group(1).strip()
        ]
    return Reading(form, tuple(nested), data, source=text if form == "jsonl" else "")


def _nested(value: Value, depth: int) -> list[Value]:
    """A value, or the values inside it when it is a serialization itself."""
    if depth <= 0 or len(value.text) < 8 or value.kind == "scalar":
        return [value]
    parsed = _parse(value.text)
    if parsed is None or not isinstance(parsed[1], dict | list):
        return [value]
    # (a string holding more than MAX_VALUES strings raises _TooMany: plain text, all of it)
    # Nested values keep the outer path: withholding one withholds the string holding it.
    found = [
        Value(value.path, inner.text, inner=True, kind=inner.kind) for inner in _walk(parsed[1])
    ]
    if parsed[0] == "yaml":  # its comments too, which the parse drops
        found += [Value(value.path, text, inner=True) for text in _comments(value.text)]
    return found


def _comments(text: str) -> list[str]:
    return [m.group(1) for m in _YAML_COMMENT.finditer(text) if m.group(1).strip()]
