"""Argument models made from JSON schemas (a tool whose parameters someone else described).

Also PathArgument, a string parameter that the schema marks as a path.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

# A string parameter naming a file or directory: ``def save(where: PathArgument)``. Its
# schema says ``format: path``, as a ``pathlib.Path`` parameter's does, so that argument
# checks (SandboxPath) know it is one whatever its name.
PathArgument = Annotated[str, WithJsonSchema({"type": "string", "format": "path"})]

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


# Type names some schemas use (BFCL's "dict", "float", "tuple") and what JSON Schema calls them.
_STANDARD = {"dict": "object", "float": "number", "tuple": "array"}


def standard_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` in standard JSON Schema.

    Type names are fixed, "any" is left untyped, the rest (enums, defaults, descriptions,
    nested items and properties) is kept as given.
    """
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            if value != "any":
                result[key] = _STANDARD.get(value, value)
        elif key == "items" and isinstance(value, dict):
            result[key] = standard_schema(value)
        elif key == "properties" and isinstance(value, dict):
            result[key] = {
                name: standard_schema(spec) if isinstance(spec, dict) else spec
                for name, spec in value.items()
            }
        else:
            result[key] = value
    return result


def _python_type(schema: dict[str, Any]) -> Any:
    if schema.get("enum") and all(isinstance(v, str | int | bool) for v in schema["enum"]):
        return Literal[tuple(schema["enum"])]
    kind = schema.get("type", "any")
    if isinstance(kind, list):  # ["string", "null"]: the first that is not null
        kind = next((k for k in kind if k != "null"), "any")
    if kind in ("array", "tuple"):
        return list[_python_type(schema.get("items", {}))]  # type: ignore[misc]
    return _TYPES.get(kind, Any)


def arguments_model(name: str, parameters: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model that validates arguments against ``parameters`` (a JSON schema).

    Fields keep the parameter's own name as an alias: pydantic refuses field names with a
    leading underscore, and some schemas have them. Optional parameters default to None.
    """
    required = set(parameters.get("required", []))
    fields: dict[str, Any] = {}
    for parameter, spec in parameters.get("properties", {}).items():
        kind = _python_type(spec)
        description = spec.get("description", "")
        field = f"field_{parameter}" if parameter.startswith("_") else parameter
        if parameter in required:
            fields[field] = (kind, Field(alias=parameter, description=description))
        else:
            fields[field] = (kind | None, Field(None, alias=parameter, description=description))
    return create_model(f"{name}_arguments", __config__=ConfigDict(populate_by_name=True), **fields)


def given_arguments(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """The arguments a caller gave, by the schema's own names, without unset optional ones."""
    return {
        (model.model_fields[key].alias or key): value
        for key, value in values.items()
        if value is not None and key in model.model_fields
    }
