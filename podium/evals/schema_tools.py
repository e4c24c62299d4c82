"""Tools made from JSON schemas (a suite's inline tools, BFCL functions), with set results."""

from __future__ import annotations

from typing import Any

from podium.tools.registry import Tool
from podium.tools.schemas import arguments_model, standard_schema


def tool_name(name: str) -> str:
    """A name chat APIs accept: BFCL's dotted names ("math.factorial") use underscores."""
    return name.replace(".", "_")


def schema_tool(
    function: dict[str, Any],
    result: Any = "done",
    error: str | None = None,
    scopes: list[str] | None = None,
) -> Tool:
    """A tool with ``function``'s name, description and parameters.

    It returns ``result``, or fails with ``error`` when one is given.
    """
    arguments = arguments_model(tool_name(function["name"]), function.get("parameters", {}))

    async def respond(**_: Any) -> Any:
        if error is not None:
            raise RuntimeError(error)
        return result

    return Tool(
        name=tool_name(function["name"]),
        description=function.get("description") or function["name"],
        function=respond,
        arguments=arguments,
        json_schema=standard_schema(function.get("parameters", {}) or {"type": "object"}),
        repeatable=True,
        scopes=frozenset(scopes or ()),
    )
