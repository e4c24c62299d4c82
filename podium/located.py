"""Where a key of a YAML or TOML file is: line numbers for errors that name them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

Lines = dict[tuple[str | int, ...], int]


def yaml_lines(text: str) -> Lines:
    """The line (1-based) where each key path of a YAML document starts."""
    import yaml

    lines: Lines = {}

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
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
