"""The router's value rules: rates, money, dates, names, quotes, units, lists, enums."""

from __future__ import annotations

from typing import Any, Literal

import pydantic
import pytest

from podium.evals.schema_tools import schema_tool
from podium.planner.router import RouterChatModel
from podium.planner.router.args import fill_arguments


def schema(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def text_param(description: str = "") -> dict[str, Any]:
    return {"type": "string", "description": description}


def plan(function: dict[str, Any], text: str) -> list[tuple[str, dict[str, Any]]]:
    tool = schema_tool(function).openai_schema()
    message = RouterChatModel().plan(text, [tool])
    return [(c["name"], c["args"]) for c in message.tool_calls]


def test_a_percent_is_a_fraction_unless_the_parameter_asks_for_a_percentage() -> None:
    properties = {
        "principal": {"type": "integer", "description": "The principal amount invested."},
        "rate": {"type": "number", "description": "The annual interest rate."},
        "years": {"type": "integer", "description": "The time in years."},
    }
    text = "an investment of $10000 with an annual interest rate of 5% for 3 years"
    assert fill_arguments(schema(properties), text).arguments == {
        "principal": 10000,
        "rate": 0.05,
        "years": 3,
    }
    properties["rate"]["description"] = "The interest rate for a year as a percentage."
    assert fill_arguments(schema(properties), text).arguments["rate"] == 5


def test_a_unit_is_the_word_written_against_the_number_only() -> None:
    properties = {
        "initial_temp": {"type": "integer", "description": "The initial temperature in Kelvin."},
        "final_temp": {"type": "integer", "description": "The final temperature in Kelvin."},
    }
    # "300K, a final ...": K is 300's unit; "final" names the next number, not this one.
    text = "given an initial temperature of 300K, a final temperature of 400K"
    assert fill_arguments(schema(properties), text).arguments == {
        "initial_temp": 300,
        "final_temp": 400,
    }


@pytest.mark.parametrize(
    ("description", "text", "expected"),
    [
        ("Format: yyyy-mm-dd.", "the price at closing March.11, 2022", "2022-03-11"),
        ("Must be in MM-DD-YYYY format.", "filed after January 1, 2021", "01-01-2021"),
        ("The date (month-day-year).", "on 2022/08/16", "08-16-2022"),
        ("Format - DD-MM-YYYY.", "starting from 15th October,2023", "15-10-2023"),
        ("The start date.", "starting from 1st June 2022", "2022-06-01"),
        ("Date of the concert in 'mm-yyyy' format.", "next month (April 2022)", "04-2022"),
        ("Date of the concert, e.g. this weekend.", "a concert this weekend", "this weekend"),
    ],
)
def test_dates_are_written_as_the_description_asks(
    description: str, text: str, expected: str
) -> None:
    filled = fill_arguments(schema({"date": text_param(description)}), text)
    assert filled.arguments == {"date": expected}


def test_a_stay_takes_its_first_date_to_start_and_its_second_to_end() -> None:
    properties = {
        "check_in_date": text_param("YYYY-MM-DD"),
        "check_out_date": text_param("YYYY-MM-DD"),
        "guests": {"type": "integer", "description": "How many people stay."},
    }
    text = "for 2 guests from 2023 April 4th to April 8th"  # the second date takes the year
    assert fill_arguments(schema(properties), text).arguments == {
        "check_in_date": "2023-04-04",
        "check_out_date": "2023-04-08",
        "guests": 2,
    }


def test_names_are_whole_and_go_where_their_cue_word_points() -> None:
    function = {
        "name": "museum_hours",
        "description": "Opening hours of a museum.",
        "parameters": schema(
            {"museum_name": text_param("The museum."), "location": text_param("The city.")}
        ),
    }
    assert plan(
        function, "What's the opening time of the Metropolitan Museum of Art in New York?"
    ) == [("museum_hours", {"museum_name": "Metropolitan Museum of Art", "location": "New York"})]


def test_a_quote_goes_to_the_parameter_whose_word_comes_before_it() -> None:
    function = {
        "name": "sculpture_details",
        "description": "Details of a sculpture.",
        "parameters": schema(
            {"artist": text_param("The artist."), "title": text_param("Its title.")}
        ),
    }
    assert plan(function, "Find the size of the sculpture with title 'David' by Michelangelo.") == [
        ("sculpture_details", {"title": "David", "artist": "Michelangelo"})
    ]


def test_a_unit_parameter_takes_the_unit_asked_for() -> None:
    properties = {
        "location": text_param("The city."),
        "days": {"type": "integer", "description": "Number of days."},
        "temp_unit": text_param("The temperature unit ('Celsius' or 'Fahrenheit')."),
    }
    text = "the average temperature in Austin for the next 3 days in Celsius"
    filled = fill_arguments(schema(properties, ["location", "days"]), text)
    assert filled.arguments == {"location": "Austin", "days": 3, "temp_unit": "Celsius"}
    # An optional unit nobody asked for stays unset: the number's own unit is not a request.
    optional = {"weight": {"type": "integer", "description": "kg"}, "unit": text_param("Units.")}
    assert fill_arguments(schema(optional, ["weight"]), "my weight is 70 kg").arguments == {
        "weight": 70
    }


def test_lists_in_prose_fill_array_parameters() -> None:
    strings = {"type": "array", "items": {"type": "string"}}
    properties = {"companies": {**strings, "description": "Companies."}, "duration": text_param()}
    text = "Retrieve stock prices of Microsoft and Google for the last 2 weeks."
    assert fill_arguments(schema(properties, ["companies"]), text).arguments["companies"] == [
        "Microsoft",
        "Google",
    ]
    numbers = {"type": "array", "items": {"type": "number"}}
    properties = {"dataset_A": numbers, "dataset_B": numbers}
    text = "dataset_A with the values 12, 24, 36 and dataset_B with the values 15, 30, 45"
    assert fill_arguments(schema(properties), text).arguments == {
        "dataset_A": [12, 24, 36],
        "dataset_B": [15, 30, 45],
    }
    options = {"type": "array", "items": {"type": "string", "enum": ["Elevation", "Area", "Year"]}}
    text = "What's the elevation and area of Yellowstone?"
    assert fill_arguments(schema({"information": options}), text).arguments == {
        "information": ["Elevation", "Area"]
    }


def test_one_call_is_not_split_into_parts_that_each_fill_less() -> None:
    number = {"type": "integer"}
    function = {
        "name": "absolute_pressure",
        "description": "Absolute pressure from atmospheric and gauge pressure.",
        "parameters": schema({"atm_pressure": number, "gauge_pressure": number}, []),
    }
    text = "the absolute pressure given atmospheric pressure of 1 atm and a gauge pressure of 2 atm"
    assert plan(function, text) == [("absolute_pressure", {"atm_pressure": 1, "gauge_pressure": 2})]


def test_a_sentence_naming_no_tool_completes_a_call() -> None:
    function = {
        "name": "last_match",
        "description": "Details of a team's last match.",
        "parameters": schema({"team_name": text_param(), "include_stats": {"type": "boolean"}}),
    }
    assert plan(function, "Get the last match of Liverpool F.C. Include its statistics.") == [
        ("last_match", {"team_name": "Liverpool F.C.", "include_stats": True})
    ]


def test_inline_tools_show_their_schema_as_given_and_validate_enums() -> None:
    function = {
        "name": "building.dimensions",
        "description": "Dimensions of a building.",
        "parameters": {
            "type": "dict",
            "properties": {
                "unit": {"type": "string", "enum": ["meter", "feet"], "description": "Unit."},
                "scale": {"type": "float", "description": "A scale.", "default": 1.0},
            },
            "required": ["unit"],
        },
    }
    tool = schema_tool(function)
    shown = tool.openai_schema()["function"]["parameters"]
    assert shown["type"] == "object"
    assert shown["properties"]["unit"]["enum"] == ["meter", "feet"]
    assert shown["properties"]["scale"] == {
        "type": "number",
        "description": "A scale.",
        "default": 1.0,
    }
    assert tool.arguments.model_validate({"unit": "feet"})
    with pytest.raises(pydantic.ValidationError):
        tool.arguments.model_validate({"unit": "yards"})
    unit: Literal["feet"] = "feet"
    assert plan(function, f"the height of the Empire State building in {unit}") == [
        ("building_dimensions", {"unit": "feet"})
    ]


def test_options_are_named_by_whole_words_only() -> None:
    bases = {"type": "array", "items": {"type": "string", "enum": ["A", "T", "C", "G"]}}
    text = "Generate a DNA sequence of 100 bases with more G (Guanine) and C (Cytosine)."
    filled = fill_arguments(schema({"preferences": bases}), text)
    assert filled.arguments == {"preferences": ["G", "C"]}


def test_units_years_and_listed_forms() -> None:
    properties = {
        "value": {"type": "integer", "description": "The value to convert."},
        "from_unit": text_param("The unit to convert from. Supports 'teaspoon', 'tablespoon'."),
        "to_unit": text_param("The unit to convert to. Supports 'teaspoon', 'tablespoon'."),
    }
    text = "How many teaspoons are in 2 tablespoons?"
    assert fill_arguments(schema(properties), text).arguments == {
        "value": 2,
        "from_unit": "tablespoon",
        "to_unit": "teaspoon",
    }
    properties = {"player": text_param(), "season": text_param("The season.")}
    text = "Get the player stats of Cristiano Ronaldo in the 2019-2020 season"
    assert fill_arguments(schema(properties), text).arguments["season"] == "2019-2020"


def test_route_ends_are_the_names_in_them() -> None:
    properties = {"start_location": text_param(), "end_location": text_param()}
    for text in (
        "the current traffic from Boston driving to New York.",
        "the shortest distance between two cities, Boston and New York, by train",
    ):
        assert fill_arguments(schema(properties), text).arguments == {
            "start_location": "Boston",
            "end_location": "New York",
        }
    text = "the shortest driving distance between New York, USA and Miami, USA."
    assert fill_arguments(schema(properties), text).arguments["start_location"] == "New York, USA"


def test_a_place_keeps_its_region_unless_another_parameter_takes_it() -> None:
    text = "Find a hospital within 5 km around Denver, Colorado with a pediatrics department."
    alone = schema({"location": text_param("The city.")})
    assert fill_arguments(alone, text).arguments == {"location": "Denver, Colorado"}
    both = schema({"city": text_param(), "country": text_param()})
    assert fill_arguments(both, "the current time in Sydney, Australia?").arguments == {
        "city": "Sydney",
        "country": "Australia",
    }


def test_identifiers_quotes_with_apostrophes_and_lists_in_one_call() -> None:
    properties = {"patient_id": text_param(), "status": text_param()}
    text = "Given patient with id 546382, retrieve the report with the status 'concluded'."
    assert fill_arguments(schema(properties), text).arguments == {
        "patient_id": "546382",
        "status": "concluded",
    }
    review = "Analyze the sentiment of a review 'I love it here! It's always fresh.'"
    filled = fill_arguments(schema({"text": text_param()}), review)
    assert filled.arguments == {"text": "I love it here! It's always fresh."}
    function = {
        "name": "find_flute",
        "description": "Find a flute by brand and specifications.",
        "parameters": schema(
            {"brand": text_param(), "specs": {"type": "array", "items": {"type": "string"}}}
        ),
    }
    text = "Find a Yamaha flute with the specifications of open hole, C foot, and silver headjoint"
    assert plan(function, text) == [
        ("find_flute", {"brand": "Yamaha", "specs": ["open hole", "C foot", "silver headjoint"]})
    ]
