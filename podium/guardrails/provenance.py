"""Provenance: where each value the planner saw came from, and whether an argument may use it.

A tool may declare, per argument, the sources it accepts (``sources={"to": ["user"]}``; a
policy file can set it per tool). Sources are the user's request (with earlier requests of
the thread, and the principal's own id), the output of a tool whose output is trusted
(``trusted_output=True``), the output of any other tool (untrusted: the default for every
tool, MCP tools included, since a tool cannot be known not to read the outside world),
recalled memories, and sub-agents' answers.

What counts as a value appearing in a source: each string or number of the argument (list
items and mapping values one by one) is looked for in each source's text, both casefolded,
with invisible characters dropped, lookalike letters read as Latin and runs of white space
made one space (podium.guardrails.encodings.fold); a substring match counts, also with all
white space removed from both (an IBAN written in groups of four). A value found in
no accepted source is a concern: found only in sources the argument does not accept (an
untrusted tool's output: the attacker's IBAN), or nowhere (the model wrote it: decoded from
somewhere, or made up). Authorize then asks a person (or blocks, where the policy file
says ``provenance: block`` for the tool). This does not depend on an attack's wording: an
instruction can be phrased any way, but the address it wants mail sent to must come from
somewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from podium.guardrails.encodings import fold
from podium.tools.sources import Source

_SPACE = re.compile(r"\s+")


def normalized(text: str) -> str:
    """``text`` as provenance compares it: folded, casefolded, white space made one space."""
    return _SPACE.sub(" ", fold(text)).casefold().strip()


@dataclass(frozen=True)
class Seen:
    """One text the planner saw, and where it came from (``where`` names it for a person)."""

    source: Source
    where: str
    text: str


@dataclass(frozen=True)
class Concern:
    """An argument's value found in no source the argument accepts."""

    argument: str
    value: str
    found_in: tuple[Seen, ...]
    accepted: frozenset[Source]

    def describe(self, tool: str) -> str:
        """The reason, with the source, for the trace and the person approving."""
        shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        wanted = " or ".join(sorted(self.accepted))
        if self.found_in:
            where = ", ".join(seen.where for seen in self.found_in[:3])
            origin = f"appears only in {where}"
        else:
            origin = "appears in nothing the planner was given (the model wrote it)"
        return (
            f"provenance: argument {self.argument!r} of {tool!r} ({shown!r}) {origin}; "
            f"it accepts values from {wanted} only"
        )


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str | int | float):
        yield str(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _leaves(item)


def concerns(
    arguments: Mapping[str, Any], accepted: Mapping[str, frozenset[Source]], seen: list[Seen]
) -> list[Concern]:
    """The arguments whose values appear in no source they accept."""
    texts = [(item, normalized(item.text)) for item in seen]
    texts = [(item, f"{text}\n{text.replace(' ', '')}") for item, text in texts]
    found: list[Concern] = []
    for argument, sources in accepted.items():
        if argument not in arguments:
            continue
        for value in _leaves(arguments[argument]):
            needle = normalized(value).replace(" ", "")
            if not needle:
                continue
            where = tuple(item for item, text in texts if needle in text)
            if not any(item.source in sources for item in where):
                found.append(Concern(argument, value, where, sources))
    return found
