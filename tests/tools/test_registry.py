from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Literal

import pytest
from pydantic import ValidationError

from podium.errors import ToolDefinitionError
from podium.tools.registry import ToolContext, ToolRegistry, make_tool, tool


def forecast(city: str, days: int = 1, unit: Literal["c", "f"] = "c") -> str:
    """Get the weather forecast for a city.

    Args:
        city: The city name, e.g. Paris.
        days: How many days ahead.
        unit: Temperature unit.
    """
    return f"{city} {days} {unit}"


def test_schema_comes_from_type_hints_and_docstring() -> None:
    schema = make_tool(forecast).openai_schema()
    function = schema["function"]
    assert function["name"] == "forecast"
    assert function["description"] == "Get the weather forecast for a city."
    parameters = function["parameters"]
    assert parameters["required"] == ["city"]
    assert parameters["properties"]["city"] == {
        "description": "The city name, e.g. Paris.",
        "title": "City",
        "type": "string",
    }
    assert parameters["properties"]["days"]["type"] == "integer"
    assert parameters["properties"]["unit"]["enum"] == ["c", "f"]


def test_arguments_are_validated_against_the_schema() -> None:
    arguments = make_tool(forecast).arguments
    assert arguments.model_validate({"city": "Oslo", "days": "3"}).days == 3  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        arguments.model_validate({"days": 2})
    with pytest.raises(ValidationError):
        arguments.model_validate({"city": "Oslo", "unit": "kelvin"})


def test_context_parameter_is_injected_not_in_schema() -> None:
    @tool
    def whoami(context: ToolContext, loud: bool = False) -> str:
        """Say who is calling."""
        return context.principal.id

    assert whoami.context_parameter == "context"
    assert "context" not in whoami.parameters_schema()["properties"]


def test_decorator_with_metadata_and_async_function() -> None:
    @tool(risk="high", scopes=["deploy"], timeout=5, side_effects=True)
    async def ship(version: str) -> str:
        """Ship a version."""
        return version

    assert ship.is_async and ship.risk == "high"
    assert ship.scopes == frozenset({"deploy"}) and ship.timeout == 5 and ship.side_effects


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def f(x):\n    '''Doc.'''", "without type hints: x"),
        ("def f(x: int):\n    pass", "has no description"),
    ],
)
def test_bad_definitions_fail_at_once(source: str, problem: str) -> None:
    namespace: dict[str, object] = {}
    exec(source, namespace)
    with pytest.raises(ToolDefinitionError, match=problem):
        make_tool(namespace["f"])  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["math.factorial", "forecast\n", "a" * 65])
def test_invalid_name_is_refused(name: str) -> None:
    with pytest.raises(ToolDefinitionError, match="not valid"):
        make_tool(forecast, name=name)


def test_duplicate_names_are_refused_unless_replacing() -> None:
    registry = ToolRegistry()
    registry.register(forecast)
    with pytest.raises(ToolDefinitionError, match="already registered"):
        registry.register(forecast)
    registry.register(forecast, replace=True)
    assert registry.names() == ["forecast"]


def _install_plugin(root: Path, name: str, module_source: str, entry: str) -> None:
    (root / f"{name}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[podium.tools]\n{entry}\n")


def test_entry_point_plugins_load_and_a_broken_one_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_plugin(
        tmp_path,
        "podium_sample_plugin",
        '''
        from podium.tools.registry import tool

        @tool
        def shout(text: str) -> str:
            """Shout a text back."""
            return text.upper()
        ''',
        "shout = podium_sample_plugin:shout",
    )
    _install_plugin(
        tmp_path,
        "podium_broken_plugin",
        "raise ImportError('no such thing')\n",
        "broken = podium_broken_plugin:anything",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = ToolRegistry()
    problems = registry.load_plugins()
    assert "shout" in registry
    assert len(problems) == 1 and "broken" in problems[0] and "no such thing" in problems[0]
    sys.modules.pop("podium_sample_plugin", None)
