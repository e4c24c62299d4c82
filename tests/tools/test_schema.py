"""A tool's argument model is the one LangChain's schema builder makes, without importing it.

Chat models are shown these schemas, so a difference would change what they are asked; the
comparison runs over every built-in tool and functions with each kind of parameter.
"""

from __future__ import annotations

import enum
import subprocess
import sys
from collections.abc import Callable
from typing import Annotated, Any, Literal

import pytest
from langchain_core.tools import create_schema_from_function
from pydantic import BaseModel, Field

from podium.errors import ToolDefinitionError
from podium.tools import builtin
from podium.tools.registry import ToolContext, tool
from podium.tools.schema import arguments_model


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    city: str = "Paris"


def plain(city: str, days: int = 3, metric: bool = True) -> str:
    """Forecast the weather.

    Args:
        city: The city, e.g. "Paris".
        days: How many days,
            counted from today.
        metric (bool): Celsius when true.
    """
    return city


def constrained(
    amount: Annotated[float, Field(gt=0, description="In euros.")],
    note: Annotated[str, "Why."] = "",
    tags: list[str] | None = None,
    unit: Literal["kg", "lb"] = "kg",
    colour: Colour = Colour.RED,
    ship_to: Address | None = None,
    limit: Annotated[int, Field(ge=1, le=50)] = 10,
) -> str:
    """Pay an amount.

    Returns:
        a receipt.
    """
    return note


def no_docstring_args(context: ToolContext, query: str, *, exact: bool = False) -> str:
    """Search for a query. Nothing more is said."""
    return query


def varargs(*names: str, **options: int) -> str:
    """Join names.

    Args:
        names: The names.
    """
    return ",".join(names)


FUNCTIONS: list[tuple[Callable[..., Any], list[str]]] = [
    (plain, []),
    (constrained, []),
    (no_docstring_args, ["context"]),
    (varargs, []),
    *[
        (t.function, [t.context_parameter] if t.context_parameter else [])
        for t in builtin.builtin_tools()
    ],
]


@pytest.mark.parametrize(("function", "skip"), FUNCTIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_the_schema_is_the_one_langchain_builds(
    function: Callable[..., Any], skip: list[str]
) -> None:
    ours = arguments_model("t", function, skip)
    theirs: Any = create_schema_from_function(
        "t", function, filter_args=skip, parse_docstring=True, error_on_invalid_docstring=False
    )
    assert ours.model_json_schema() == theirs.model_json_schema()
    assert ours.__doc__ == theirs.__doc__
    assert list(ours.model_fields) == list(theirs.model_fields)


def test_the_model_validates_as_the_signature_says() -> None:
    model = arguments_model("pay", constrained)
    assert model(amount="2.5").amount == 2.5
    with pytest.raises(ValueError, match="greater than 0"):
        model(amount=0)
    with pytest.raises(ValueError, match="less than or equal to 50"):
        model(amount=1, limit=51)


def test_a_docstring_naming_an_argument_it_lacks_is_a_definition_error() -> None:
    def wrong(city: str) -> str:
        """Look up a city.

        Args:
            town: The town.
        """
        return city

    with pytest.raises(ToolDefinitionError, match=r"town.*not found") as raised:
        tool(wrong)
    assert "describe only the function's own parameters" in raised.value.fix


def test_listing_tools_does_not_import_langchain() -> None:
    code = (
        "import sys; from podium.cli.common import tool_registry; "
        "tool_registry(True, None).schemas(); "
        "print(sorted(m for m in sys.modules if m.startswith(('langchain', 'langgraph'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
