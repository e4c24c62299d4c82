"""Tools made from JSON schemas (a suite's inline tools, BFCL functions), with set results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

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
        description = spec.get("description", "")
        # The schema keeps the parameter's own name (an alias): pydantic refuses field names
        # with a leading underscore, and some schemas have them.
        field = f"field_{name}" if name.startswith("_") else name
        if name in required:
            fields[field] = (kind, Field(alias=name, description=description))
        else:
            fields[field] = (kind | None, Field(None, alias=name, description=description))
    arguments: type[BaseModel] = create_model(
        f"{tool_name(function['name'])}_arguments",
        __config__=ConfigDict(populate_by_name=True),
        **fields,
    )

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
