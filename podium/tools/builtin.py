"""Built-in tools: calculator, current time, sandboxed files, memory search and save."""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
from pathlib import Path

from podium.tools.arithmetic import evaluate
from podium.tools.plain_math import symbolic
from podium.tools.registry import Tool, ToolContext, tool
from podium.tools.sandbox import OutsideSandbox, open_inside
from podium.tools.zones import zone_named


@tool
def calculator(expression: str) -> str:
    """Calculate arithmetic: + - * / // % **, sqrt, log, pi, or words ("15% of 80", "7 times 6").

    Args:
        expression: The arithmetic to evaluate, e.g. "17 * (3 + 4)" or "15% of 80".
    """
    value = evaluate(symbolic(expression) or expression)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    return str(value)


@tool(repeatable=True)
def current_time(timezone: str = "UTC") -> str:
    """Get the current date and time now, in ISO 8601 format.

    Args:
        timezone: An IANA time zone name such as "Europe/Paris", or a city; UTC by default.
    """
    zone = zone_named(timezone)
    if zone is None:
        raise ValueError(
            f"unknown time zone or city {timezone!r}; use an IANA name such as "
            '"America/New_York" or a large city'
        )
    now = datetime.now(zone)
    return f"{now.isoformat(timespec='seconds')} ({now.tzname()}, {_zone_name(zone)})"


def _zone_name(zone: tzinfo) -> str:
    return str(getattr(zone, "key", "UTC"))


MAX_READ_CHARS = 1_000_000
MAX_LISTED = 500
MAX_MEMORIES = 100


def _opened(sandbox: Path, path: str, *, directory: bool) -> tuple[int, str]:
    """``open_inside`` with the messages the planner reads."""
    kind = "directory" if directory else "file"
    try:
        return open_inside(sandbox, path, directory=directory)
    except OutsideSandbox:
        raise
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as error:
        raise FileNotFoundError(f"no {kind} {path!r} in the sandbox") from error


@tool
def read_file(path: str, context: ToolContext, max_chars: int = 20_000) -> str:
    """Read a text file from the sandbox directory.

    Args:
        path: The file's path, relative to the sandbox directory.
        max_chars: Read at most this many characters.
    """
    if not 0 <= max_chars <= MAX_READ_CHARS:
        raise ValueError(
            f"max_chars={max_chars} is out of range; ask for 0 to {MAX_READ_CHARS:,} characters"
        )
    fd, _ = _opened(context.sandbox, path, directory=False)
    # A text reader decodes only what read() asks for, a chunk at a time: never the whole
    # file when max_chars is small.
    with os.fdopen(fd, encoding="utf-8", errors="replace") as handle:
        return handle.read(max_chars)


@tool
def list_files(context: ToolContext, directory: str = ".") -> list[str]:
    """List the files in a directory of the sandbox.

    Args:
        directory: The directory, relative to the sandbox directory.
    """
    fd, relative = _opened(context.sandbox, directory, directory=True)
    try:
        names = os.listdir(fd)
    finally:
        os.close(fd)
    prefix = f"{relative}/" if relative else ""
    return sorted(prefix + name for name in names)[:MAX_LISTED]


@tool
def memory_search(query: str, context: ToolContext, limit: int = 5) -> list[dict[str, str]]:
    """Search long-term memory for notes and earlier results related to a query.

    Args:
        query: What to look for.
        limit: How many memories to return at most.
    """
    if not 1 <= limit <= MAX_MEMORIES:
        raise ValueError(f"limit={limit} is out of range; ask for 1 to {MAX_MEMORIES} memories")
    if context.memory is None:
        raise RuntimeError("long-term memory is off for this agent")
    found = []
    for memory in context.memory.recall(query, context.principal.tenant, limit):
        # Memories the memory screen flags are withheld, as they are from the prompt.
        text = memory.text if context.recall_guard is None else context.recall_guard(memory.text)
        if text is not None:  # each with where it came from, as recalled memories are
            found.append({"text": text, **memory.provenance})
    return found


@tool(side_effects=True)
def memory_save(text: str, context: ToolContext) -> str:
    """Save a note to long-term memory so later runs can recall it.

    Args:
        text: The note to remember.
    """
    if context.memory is None:
        raise RuntimeError("long-term memory is off for this agent")
    if context.memory_guard is not None:
        screened, reason = context.memory_guard(text)
        if screened is None:
            raise PermissionError(f"the memory guard refused this note: {reason}")
        text = screened
    memory_id = context.memory.remember(
        text,
        context.principal.tenant,
        {"thread": context.thread_id, "run": context.run_id, "source": "memory_save"},
    )
    return f"saved as memory {memory_id}"


def builtin_tools(memory: bool = True) -> list[Tool]:
    """Podium's built-in tools; the memory tools only when the agent has memory."""
    tools = [calculator, current_time, read_file, list_files]
    return [*tools, memory_search, memory_save] if memory else tools
