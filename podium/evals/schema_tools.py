"""Tools made from JSON schemas (a suite's inline tools, BFCL functions), with set results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, create_model

from podium.tools.registry import Tool

_TYPES: dict[str, Any] = {
    "integer": int,
    "number": float,
    "float": float,
    "string": str,
    "boolean": bool,
    "dict": dict[str, Any],
    "object": dict[str, Any],
    "any": Any,
}


def _python_type(schema: dict[str, Any]) -> Any:
    kind = schema.get("type", "any")
    if kind in ("array", "tuple"):
        return list[_python_type(schema.get("items", {}))]  # type: ignore[misc]
    return _TYPES.get(kind, Any)


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
    parameters = function.get("parameters", {})
    required = set(parameters.get("required", []))
    fields: dict[str, Any] = {}
    for name, spec in parameters.get("properties", {}).items():
        kind = _python_type(spec)
        described = Field(description=spec.get("description", ""))
        if name in required:
            fields[name] = (kind, described)
        else:
            fields[name] = (kind | None, Field(default=None, description=described.description))
    arguments: type[BaseModel] = create_model(f"{tool_name(function['name'])}_arguments", **fields)

    async def respond(**_: Any) -> Any:
        if error is not None:
            raise RuntimeError(error)
        return result

    return Tool(
        name=tool_name(function["name"]),
        description=function.get("description") or function["name"],
        function=respond,
        arguments=arguments,
        repeatable=True,
        scopes=frozenset(scopes or ()),
    )
