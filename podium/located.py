"""Where a key of a YAML or TOML file is: line numbers for errors that name them."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from podium.errors import ConfigError

Lines = dict[tuple[str | int, ...], int]


def read_yaml(path: Path, text: str) -> tuple[Any, Lines]:
    """A YAML file's data and the line of each key; a ConfigError names the line of a problem.

    A key given twice in one mapping is an error: YAML loaders keep the last one silently,
    so a second ``principals:`` or ``scopes:`` would quietly replace the first.
    """
    import yaml

    try:
        lines = yaml_lines(text)
        return yaml.safe_load(text), lines
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or error
        raise ConfigError(
            f"{path}{where}: not valid YAML: {problem}", "fix the syntax there"
        ) from None
    except DuplicateKey as error:
        raise ConfigError(
            f"{path}, line {error.line}: key {error.key!r} is given twice (first on line "
            f"{error.first})",
            "keep one of them: a YAML file may name each key once per level",
        ) from None


class DuplicateKey(ValueError):
    """A mapping that names the same key twice."""

    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(f"key {key!r} on line {line} repeats line {first}")
        self.key, self.line, self.first = key, line, first


def yaml_lines(text: str) -> Lines:
    """The line (1-based) where each key path of a YAML document starts."""
    import yaml

    lines: Lines = {}

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise DuplicateKey(key.value, key.start_mark.line + 1, seen[key.value])
                    seen[key.value] = key.start_mark.line + 1
                lines[(*path, key.value)] = key.start_mark.line + 1
                walk(value, (*path, key.value))
                lines[(*path, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return lines


def toml_line(text: str, path: tuple[str | int, ...]) -> int | None:
    """The line of a key path in TOML: found by its table header and key, in order."""
    names = [str(p) for p in path if isinstance(p, str)]
    line_of = None
    start = 0
    rows = text.splitlines()
    for depth, name in enumerate(names):
        header = re.compile(rf"^\s*\[+\s*{re.escape('.'.join(names[: depth + 1]))}\s*\]+")
        key = re.compile(rf"^\s*\"?{re.escape(name)}\"?\s*=|[{{,]\s*\"?{re.escape(name)}\"?\s*=")
        for number in range(start, len(rows)):
            if header.search(rows[number]) or key.search(rows[number]):
                line_of, start = number + 1, number
                break
    return line_of


class Located:
    """Line numbers of a parsed policy file, to name them in errors."""

    def __init__(self, path: Path, lines: Lines, text: str) -> None:
        self.path, self._lines, self._text = path, lines, text

    def line(self, key: tuple[str | int, ...]) -> int | None:
        """The line of ``key`` (or of its nearest parent that has one)."""
        if self.path.suffix == ".toml":
            return toml_line(self._text, key)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return None

    def where(self, key: tuple[str | int, ...]) -> str:
        """'path, line N' for errors."""
        line = self.line(key)
        return f"{self.path}, line {line}" if line else str(self.path)


def suggest(name: str, known: set[str]) -> str:
    """'did you mean X?' for a near name, or the list of known names."""
    hint = difflib.get_close_matches(name, sorted(known), n=1)
    if hint:
        return f"did you mean {hint[0]!r}?"
    return f"known: {', '.join(sorted(known)) or 'none'}"
