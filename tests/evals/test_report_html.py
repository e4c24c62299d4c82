"""The HTML report: bars that pass and fail look different, a threshold line, every case."""

from __future__ import annotations

import asyncio
import re

from podium.config import Settings
from podium.evals.report import EvalReport
from podium.evals.report_html import FAIL_COLOUR, PASS_COLOUR, chart, to_html
from podium.evals.runner import run_suite
from podium.evals.suite import Suite
from podium.planner.models.scripted import ScriptedChatModel, call, calls

LONG = "weather in Rome? " + "Please answer in detail. " * 20
SUITE = Suite.model_validate(
    {
        "name": "html",
        "threshold": 0.75,
        "inline_tools": [
            {
                "name": "get_weather",
                "description": "Weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                "result": "sunny, 21 C",
            }
        ],
        "cases": [
            {
                "id": "right",
                "request": LONG,
                "expect_calls": [{"name": "get_weather", "arguments": {"city": ["Rome"]}}],
                "tags": ["weather"],
            },
            {"id": "wrong", "request": "hi", "expect_no_call": True, "tags": ["chat"]},
        ],
    }
)


def run_report() -> EvalReport:
    model = ScriptedChatModel(
        turns=[
            calls(call("get_weather", city="Rome")),
            "It is sunny, 21 C.",
            calls(call("get_weather", city="Oslo")),  # "hi" calls a tool: a failure
            "done",
        ]
    )
    report = EvalReport(suite=SUITE.name, model="scripted", threshold=SUITE.threshold)
    asyncio.run(run_suite(SUITE, model, Settings.load(), report, concurrency=1))
    return report


def test_failing_bars_differ_by_colour_and_label_and_the_threshold_is_drawn() -> None:
    svg = chart(run_report())
    groups = re.findall(r'<g class="(\w+)"><text x="0" y="\d+">(\w+)</text>(.*?)</g>', svg)
    by_category = {category: (kind, rest) for kind, category, rest in groups}
    assert by_category["weather"][0] == "pass" and PASS_COLOUR in by_category["weather"][1]
    assert "100.0% pass" in by_category["weather"][1]
    for failing in ("chat", "all"):  # 0% and 50%, both under 75%
        kind, rest = by_category[failing]
        assert kind == "fail" and FAIL_COLOUR in rest and "below threshold" in rest
    assert '<line x1="385"' in svg  # 160 + 300 * 0.75
    assert "threshold 75%" in svg


def test_the_page_lists_every_case_with_long_texts_folded() -> None:
    report = run_report()
    page = to_html(report)
    table = page[page.index('<table class="cases">') :]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 2 and "wrong" in rows[0] and "right" in rows[1]  # failures first
    assert "✗ FAIL" in rows[0] and "called get_weather, expected no call" in rows[0]
    assert "get_weather(city=&#x27;Oslo&#x27;) -&gt; ok" in rows[0]
    assert "no call" in rows[0]  # what was expected
    assert "✓ pass" in rows[1] and "<details><summary>weather in Rome?" in rows[1]
    for outcome in report.outcomes:
        assert f"<code>{outcome.trace_id}</code>" in table
