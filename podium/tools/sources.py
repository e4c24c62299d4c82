"""Where a value the planner sees came from, and which sources a tool's argument accepts.

The names live with tools, which declare them (``@tool(sources=...)``); the provenance
check that reads them is podium/guardrails/provenance.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, get_args

Source = Literal["user", "trusted_tool", "untrusted_tool", "memory", "subagent"]
SOURCES: tuple[Source, ...] = get_args(Source)


def accepted_sources(
    tool: str, sources: Mapping[str, Iterable[str]]
) -> dict[str, frozenset[Source]]:
    """``sources`` checked: known source names only (ValueError naming the tool otherwise)."""
    checked: dict[str, frozenset[Source]] = {}
    for argument, names in sources.items():
        names = list(names)
        unknown = sorted(set(names) - set(SOURCES))
        if unknown or not names:
            raise ValueError(
                f"tool {tool!r}: argument {argument!r} accepts unknown sources {unknown or names}; "
                f"use some of: {', '.join(SOURCES)}"
            )
        checked[argument] = frozenset(names)  # type: ignore[arg-type]
    return checked
