"""The first things people type, as the offline router plans them with the built-in tools."""

from __future__ import annotations

from typing import Any

import pytest

from podium.planner.router.model import RouterChatModel
from podium.tools.builtin import calculator, current_time, list_files, read_file

TOOLS = [t.openai_schema() for t in (calculator, current_time, read_file, list_files)]


def planned(request: str) -> list[tuple[str, dict[str, Any]]]:
    reply = RouterChatModel().plan(request, TOOLS)
    return [(c["name"], c["args"]) for c in reply.tool_calls]


@pytest.mark.parametrize(
    ("request_text", "expression"),
    [
        ("What is 1,234 + 5,678?", "1234 + 5678"),  # not the 234 + 5 a span of it holds
        ("square root of 144", "144 ** 0.5"),
        ("15% of 80", "15 / 100 * 80"),
        ("seven times six", "7 * 6"),
        ("add 3 and 5", "3 + 5"),
        ("3 to the power of 4", "3 ** 4"),
        ("what is 17 * (3 + 4)?", "17 * (3 + 4)"),
    ],
)
def test_arithmetic_in_words_is_one_calculator_call(request_text: str, expression: str) -> None:
    assert planned(request_text) == [("calculator", {"expression": expression})]


@pytest.mark.parametrize(
    ("request_text", "zones"),
    [
        ("What time is it in Tokyo?", ["Tokyo"]),
        ("what's the time in New York right now?", ["New York"]),
        (
            "what time is it in America/New_York and in Asia/Kolkata?",
            ["America/New_York", "Asia/Kolkata"],
        ),
    ],
)
def test_the_place_asked_about_is_the_time_zone(request_text: str, zones: list[str]) -> None:
    assert planned(request_text) == [("current_time", {"timezone": z}) for z in zones]
    for zone in zones:  # and the tool knows each place
        current_time.function(zone)


@pytest.mark.parametrize(
    ("request_text", "arguments"),
    [
        ("list the files in docs", {"directory": "docs"}),  # not the sandbox's root
        ("list the files in the docs folder", {"directory": "docs"}),
        ("list files under docs/reports", {"directory": "docs/reports"}),
        ("list the files", {}),
        ("list the files in the sandbox", {}),  # the tool's own place: its default
        ("what files are in this directory", {}),
    ],
)
def test_the_folder_named_is_the_one_listed(request_text: str, arguments: dict[str, Any]) -> None:
    assert planned(request_text) == [("list_files", arguments)]
