"""Built-in tools: calculator, current time, sandboxed files, memory search and save."""

from __future__ import annotations

import ast
import math
import operator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from podium.tools.registry import Tool, ToolContext, tool

_BINARY: dict[type[ast.operator], Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitXor: operator.pow,  # people write 2^3 for a power
}
_UNARY: dict[type[ast.unaryop], Any] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Any] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "factorial": math.factorial,
    "floor": math.floor,
    "ceil": math.ceil,
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
MAX_POWER = 10_000
MAX_EXPRESSION = 500


def _evaluate(node: ast.AST) -> float | int:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if type(node.op) in (ast.Pow, ast.BitXor) and abs(right) > MAX_POWER:
            raise ValueError(f"exponent {right} is too large (limit {MAX_POWER})")
        return _BINARY[type(node.op)](left, right)  # type: ignore[no-any-return]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))  # type: ignore[no-any-return]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_evaluate(a) for a in node.args))  # type: ignore[no-any-return]
    raise ValueError(f"unsupported element in expression: {ast.dump(node)[:60]}")


@tool
def calculator(expression: str) -> str:
    """Calculate the value of an arithmetic expression (+ - * / // % **, sqrt, log, pi...).

    Args:
        expression: The arithmetic expression to evaluate, e.g. "17 * (3 + 4)".
    """
    if len(expression) > MAX_EXPRESSION:
        raise ValueError(f"expression longer than {MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression.replace("×", "*").replace("÷", "/"), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"not an arithmetic expression: {error.msg}") from error
    value = _evaluate(tree)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    return str(value)


@tool(repeatable=True)
def current_time(timezone: str = "UTC") -> str:
    """Get the current date and time now, in ISO 8601 format.

    Args:
        timezone: An IANA time zone name such as "Europe/Paris"; UTC by default.
    """
    try:
        zone = UTC if timezone.upper() == "UTC" else ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {timezone!r}; use an IANA name") from error
    return datetime.now(zone).isoformat(timespec="seconds")


def _inside_sandbox(sandbox: Path, path: str) -> Path:
    root = sandbox.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise PermissionError(f"{path!r} is outside the sandbox directory")
    return target


@tool
def read_file(path: str, context: ToolContext, max_chars: int = 20_000) -> str:
    """Read a text file from the sandbox directory.

    Args:
        path: The file's path, relative to the sandbox directory.
        max_chars: Read at most this many characters.
    """
    target = _inside_sandbox(context.sandbox, path)
    if not target.is_file():
        raise FileNotFoundError(f"no file {path!r} in the sandbox")
    with target.open(encoding="utf-8", errors="replace") as handle:
        return handle.read(max_chars)


@tool
def list_files(context: ToolContext, directory: str = ".") -> list[str]:
    """List the files in a directory of the sandbox.

    Args:
        directory: The directory, relative to the sandbox directory.
    """
    target = _inside_sandbox(context.sandbox, directory)
    if not target.is_dir():
        raise FileNotFoundError(f"no directory {directory!r} in the sandbox")
    root = context.sandbox.resolve()
    return sorted(str(p.relative_to(root)) for p in target.iterdir())[:500]


@tool
def memory_search(query: str, context: ToolContext, limit: int = 5) -> list[dict[str, str]]:
    """Search long-term memory for notes and earlier results related to a query.

    Args:
        query: What to look for.
        limit: How many memories to return at most.
    """
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
