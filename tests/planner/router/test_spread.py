"""The router makes one call per item when a request lists several values for one parameter."""

from __future__ import annotations

import time
from typing import Any

import pytest

from podium.evals.schema_tools import schema_tool
from podium.planner.router import RouterChatModel
from podium.planner.router.spread import variants
from tests.planner.router.test_values import plan, schema, text_param


def function(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "description": description, "parameters": schema(properties)}


FACTORIAL = function(
    "math_factorial",
    "Calculate the factorial of a number.",
    {"number": {"type": "integer", "description": "The number."}},
)
ORDER = function("order_status", "Look up the status of an order.", {"order_id": text_param()})
PRESENT_VALUE = function(
    "present_value",
    "Calculate the present value of a yearly payment.",
    {
        "payment": {"type": "integer", "description": "The payment per year."},
        "rate": {"type": "number", "description": "The interest rate."},
        "years": {"type": "integer", "description": "The number of years."},
    },
)


def test_a_list_of_numbers_for_one_parameter_makes_a_call_per_number() -> None:
    assert plan(FACTORIAL, "Find the factorial of 5,10 and 15.") == [
        ("math_factorial", {"number": 5}),
        ("math_factorial", {"number": 10}),
        ("math_factorial", {"number": 15}),
    ]
    calls = plan(
        PRESENT_VALUE, "The present value of $1,000 per year at 5% for 10, 20 and 30 years"
    )
    assert [c[1] for c in calls] == [
        {"payment": 1000, "rate": 0.05, "years": years} for years in (10, 20, 30)
    ]


def test_a_list_of_identifiers_makes_a_call_per_identifier() -> None:
    calls = plan(ORDER, "What is the status of orders A-1, A-2 and A-3?")
    assert [c[1]["order_id"] for c in calls] == ["A-1", "A-2", "A-3"]
    calls = plan(ORDER, "What is the status of orders 'A-1' and 'B 2'?")
    assert [c[1]["order_id"] for c in calls] == ["A-1", "B 2"]


def test_a_list_of_quotes_makes_a_call_per_quote() -> None:
    rating = function("show_rating", "The rating of a TV show.", {"show": text_param("The title.")})
    text = "Find the ratings of the shows 'Friends' and 'The Office' on Netflix"
    assert plan(rating, text) == [
        ("show_rating", {"show": "Friends"}),
        ("show_rating", {"show": "The Office"}),
    ]
    # The list itself (the plan above may also come from parts split at "and"):
    text = "Ratings of 'Friends', 'The Office' or 'Lost' please"
    assert [v.items for v in variants(text, {"show": "Friends"})] == [
        {"show": "'Friends'"},
        {"show": "'The Office'"},
        {"show": "'Lost'"},
    ]
    assert variants("Ratings of Friends' and 'Lost", {"show": "Friends"}) == []


def test_numbers_for_different_parameters_are_no_list() -> None:
    multiply = function(
        "multiply",
        "Multiply two numbers.",
        {"a": {"type": "number", "description": ""}, "b": {"type": "number", "description": ""}},
    )
    assert plan(multiply, "Multiply 12 and 7") == [("multiply", {"a": 12, "b": 7})]


def test_a_thousands_separator_a_point_and_a_place_with_its_country_are_no_lists() -> None:
    calls = plan(PRESENT_VALUE, "The present value of $400,000 per year at 4% for 15 years")
    assert calls == [("present_value", {"payment": 400000, "rate": 0.04, "years": 15})]
    weather = function("get_weather", "The weather of a city.", {"city": text_param()})
    assert plan(weather, "What is the weather in Miami, USA?") == [
        ("get_weather", {"city": "Miami, USA"})
    ]


def test_an_array_parameter_takes_the_list_whole() -> None:
    prices = function(
        "stock_prices",
        "Get the stock prices of companies.",
        {"companies": {"type": "array", "items": {"type": "string"}, "description": ""}},
    )
    assert plan(prices, "Get the stock prices of Apple, Microsoft and Google") == [
        ("stock_prices", {"companies": ["Apple", "Microsoft", "Google"]})
    ]


def test_lists_for_two_parameters_pair_up_respectively_and_combine_otherwise() -> None:
    play = function(
        "spotify_play",
        "Play songs of an artist on Spotify.",
        {"artist": text_param(), "duration": {"type": "integer", "description": "Minutes."}},
    )
    text = "Play Taylor Swift and Maroon 5, for 20 minutes and 15 minutes respectively"
    assert [c[1] for c in plan(play, text)] == [
        {"artist": "Taylor Swift", "duration": 20},
        {"artist": "Maroon 5", "duration": 15},
    ]
    concerts = function(
        "find_concerts",
        "Find concerts of a genre in a city.",
        {"city": text_param("The city."), "genre": text_param("The music genre.")},
    )
    calls = plan(concerts, "Find rock and jazz concerts in Berlin and Paris")
    assert sorted((c[1]["city"], c[1]["genre"]) for c in calls) == [
        ("Berlin", "jazz"),
        ("Berlin", "rock"),
        ("Paris", "jazz"),
        ("Paris", "rock"),
    ]


@pytest.mark.parametrize(
    ("tool", "text"),
    [
        (FACTORIAL, "Find the factorial of " + "1, " * 10_000 + "and 2"),
        (FACTORIAL, "Find the factorial of " + "1 and " * 5_000 + "2"),
        (ORDER, "What is the status of orders " + "A-1, " * 5_000 + "and A-2?"),
        (ORDER, "What is the status of order 'A-1'" + " and 'a'" * 5_000),
        (ORDER, "What is the status of order A-1 " + "Aa and " * 5_000),
    ],
)
def test_long_lists_are_read_in_linear_time_and_make_at_most_24_calls(
    tool: dict[str, Any], text: str
) -> None:
    started = time.process_time()
    calls = plan(tool, text)
    assert time.process_time() - started < 5.0
    assert 1 <= len(calls) <= 24


def test_commas_part_a_clause_before_and_does() -> None:
    pair = {
        "num1": {"type": "integer", "description": "The first number."},
        "num2": {"type": "integer", "description": "The second number."},
    }
    tools = [
        schema_tool(function("gcd", "The greatest common divisor (GCD) of two numbers.", pair)),
        schema_tool(function("lcm", "The least common multiple (LCM) of two numbers.", pair)),
        schema_tool(FACTORIAL),
    ]
    schemas = [t.openai_schema() for t in tools]

    def planned(text: str) -> list[tuple[str, dict[str, Any]]]:
        message = RouterChatModel().plan(text, schemas)
        return [(c["name"], c["args"]) for c in message.tool_calls]

    assert planned("Calculate the GCD of 96 and 128, and the LCM of 15 and 25.") == [
        ("gcd", {"num1": 96, "num2": 128}),
        ("lcm", {"num1": 15, "num2": 25}),
    ]
    # Each part may list values of its own.
    assert planned("The GCD of 96 and 128, and the factorial of 4 and 5.") == [
        ("gcd", {"num1": 96, "num2": 128}),
        ("math_factorial", {"number": 4}),
        ("math_factorial", {"number": 5}),
    ]
