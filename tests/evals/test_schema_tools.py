"""Tools from JSON schemas: BFCL's dialect, odd names, set results and failures."""

from __future__ import annotations

import asyncio

import pytest

from podium.evals.schema_tools import schema_tool


def test_bfcl_dialect_and_a_leading_underscore_become_a_valid_tool() -> None:
    tool = schema_tool(
        {
            "name": "geometry.area",
            "parameters": {
                "type": "dict",
                "properties": {
                    "_class": {"type": "string"},
                    "sides": {"type": "array", "items": {"type": "float"}},
                    "exact": {"type": "boolean"},
                },
                "required": ["sides"],
            },
        },
        result="42",
    )
    assert tool.name == "geometry_area"
    schema = tool.parameters_schema()
    assert set(schema["properties"]) == {"_class", "sides", "exact"}
    assert schema["required"] == ["sides"]
    arguments = tool.arguments.model_validate({"_class": "square", "sides": [1, 2.5]})
    assert asyncio.run(tool.function(**arguments.model_dump())) == "42"


def test_a_schema_tool_can_fail_as_told() -> None:
    tool = schema_tool({"name": "quote"}, error="the quote service is down")
    with pytest.raises(RuntimeError, match="the quote service is down"):
        asyncio.run(tool.function())
