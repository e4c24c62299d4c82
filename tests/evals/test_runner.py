"""The eval runner: scoring, trials, reports, the CLI, BFCL data, record and replay."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.config import Settings
from podium.evals.bfcl import load_bfcl
from podium.evals.matching import calls_problem
from podium.evals.report import EvalReport
from podium.evals.report_html import to_html
from podium.evals.runner import run_suite
from podium.evals.suite import Suite
from podium.planner.models.scripted import ScriptedChatModel, call, calls

BFCL = Path(__file__).resolve().parents[3] / "shared" / "data" / "bfcl"
needs_bfcl = pytest.mark.skipif(
    not BFCL.is_dir(), reason=f"BFCL data not found at {BFCL} (it is never committed)"
)

SUITE: dict[str, Any] = {
    "name": "scripted",
    "threshold": 0.5,
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
            "request": "weather in Rome?",
            "expect_calls": [{"name": "get_weather", "arguments": {"city": ["Rome"]}}],
            "answer": {"contains": ["sunny"]},
            "tags": ["weather"],
        },
        {"id": "wrong", "request": "hi", "expect_no_call": True, "tags": ["chat"]},
    ],
}


def scripted_model() -> ScriptedChatModel:
    """A scripted model: each case's turns in order (the runner runs one case at a time)."""
    return ScriptedChatModel(
        turns=[
            calls(call("get_weather", city="Rome")),
            lambda messages: str(messages[-1].content),
            calls(call("get_weather", city="Oslo")),  # the "hi" case calls a tool: a failure
            "done",
        ]
    )


def run(suite: Suite, trials: int = 1) -> EvalReport:
    report = EvalReport(suite=suite.name, model="scripted", threshold=suite.threshold)
    asyncio.run(
        run_suite(suite, scripted_model(), Settings.load(), report, concurrency=1, trials=trials)
    )
    return report


def test_a_suite_is_scored_per_case_and_per_category() -> None:
    report = run(Suite.model_validate(SUITE))
    by_id = {o.case_id: o for o in report.outcomes}
    assert by_id["right"].passed and by_id["right"].calls_matched == 1
    assert by_id["wrong"].problem == "called get_weather, expected no call"
    figures = {f.category: f for f in report.categories()}
    assert figures["weather"].accuracy == 1.0 and figures["chat"].accuracy == 0.0
    assert figures["chat"].no_call_accuracy == 0.0
    assert figures["all"].accuracy == 0.5 and report.met_threshold
    assert not report.partial


def test_reports_round_trip_and_render_as_html(tmp_path: Path) -> None:
    report = run(Suite.model_validate(SUITE))
    path = tmp_path / "report.json"
    path.write_text(report.to_json())
    again = EvalReport.read(path)
    assert again.accuracy == report.accuracy and len(again.outcomes) == 2
    page = to_html(report)
    assert page.startswith("<!doctype html>") and "<svg" in page and "expected no call" in page


def test_an_interrupted_run_keeps_what_finished_and_says_partial() -> None:
    suite = Suite.model_validate(SUITE)
    report = EvalReport(suite=suite.name, model="scripted", threshold=0.0)

    async def interrupted() -> None:
        first_done = asyncio.Event()
        slow = ScriptedChatModel(turns=["done"], repeat_last=True, latency=0.2)
        task = asyncio.create_task(
            run_suite(
                suite,
                slow,
                Settings.load(),
                report,
                concurrency=1,
                trials=4,
                on_done=lambda _: first_done.set(),
            )
        )
        await asyncio.wait_for(first_done.wait(), timeout=30)  # cancel once one case is in
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.2)  # let the checkpointer's connection thread finish its close

    asyncio.run(interrupted())
    assert report.partial and 0 < len(report.outcomes) < 8
    assert not report.met_threshold  # a partial run never passes a gate


def test_cli_gates_on_the_threshold_and_compares(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: cli\nthreshold: 1.0\ntools: [calculator]\ncases:\n"
        "  - {id: add, request: 'What is 2 + 3?', answer: {number: 5}}\n"
        "  - {id: hello, request: 'Hello there', expect_no_call: true}\n"
    )
    runner = CliRunner()
    first = runner.invoke(app, ["eval", str(suite), "--json", str(tmp_path / "a.json")])
    assert first.exit_code == 0, first.output
    assert "passed: 100.0% of 2 trial(s)" in first.output
    strict = suite.read_text().replace("number: 5", "number: 6")
    suite.write_text(strict)
    second = runner.invoke(app, ["eval", str(suite), "--json", str(tmp_path / "b.json")])
    assert second.exit_code == 1 and "FAIL add: answer has no number" in second.output
    shown = runner.invoke(
        app, ["eval", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    )
    assert "-50.0%" in shown.output
    missing = runner.invoke(app, ["eval", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_the_shipped_suite_passes_with_the_offline_router(tmp_path: Path) -> None:
    path = Path(__file__).resolve().parents[2] / "podium" / "evals" / "suites" / "builtin.yaml"
    out = tmp_path / "builtin.json"
    result = CliRunner().invoke(app, ["eval", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    figures = {f["category"]: f for f in json.loads(out.read_text())["figures"]}
    assert figures["injection"]["attack_success"] == 0.0  # both attack cases were stopped


def first(options: list[Any]) -> Any:
    """An answer's first allowed value; inside a dict, each key's first allowed value."""
    return plain(options[0])


def plain(value: Any) -> Any:
    """A value of an answer with the options of any dict inside it resolved to the first."""
    if isinstance(value, dict):
        return {k: first(v) if isinstance(v, list) else v for k, v in value.items() if v != [""]}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@needs_bfcl
@pytest.mark.parametrize("category", ["simple_python", "multiple", "parallel", "parallel_multiple"])
def test_bfcl_ground_truth_passes_its_own_scoring(category: str) -> None:
    """Calls built from each possible answer (its first allowed values) must match it."""
    suite = load_bfcl(BFCL, category)
    assert len(suite.cases) >= 200
    for case in suite.cases:
        assert case.expect_calls is not None
        made = [
            (c.name, {k: first(v) for k, v in c.arguments.items() if v[0] != ""})
            for c in case.expect_calls
        ]
        assert calls_problem(made, case.expect_calls) is None, case.id


@needs_bfcl
def test_bfcl_runs_end_to_end_with_the_router() -> None:
    suite = load_bfcl(BFCL, "irrelevance", limit=10)
    assert all(c.expect_no_call for c in suite.cases)
    from podium.planner.router import RouterChatModel

    report = EvalReport(suite=suite.name, model="router", threshold=0.0)
    asyncio.run(run_suite(suite, RouterChatModel(), Settings.load(), report))
    assert len(report.outcomes) == 10 and report.categories()[0].category == "irrelevance"


@needs_bfcl
@pytest.mark.slow
@pytest.mark.parametrize(("category", "goal"), [("simple_python", 0.50), ("irrelevance", 0.80)])
def test_the_router_meets_its_bfcl_goals(category: str, goal: float) -> None:
    """The goals of BENCHMARKS.md, through the runner: a rule that costs them fails here."""
    from podium.planner.router import RouterChatModel

    suite = load_bfcl(BFCL, category)
    report = EvalReport(suite=suite.name, model="router", threshold=goal)
    asyncio.run(run_suite(suite, RouterChatModel(), Settings.load(), report, concurrency=4))
    accuracy = report.categories()[-1].accuracy
    assert accuracy >= goal, f"{category}: {accuracy:.3f} < {goal}"


def test_record_then_replay_offline_and_drift_is_named(tmp_path: Path) -> None:
    from podium.planner.models.openai import openai_chat_model
    from tests.planner.openai_server import completion, serve

    one = Suite.model_validate({**SUITE, "cases": [SUITE["cases"][0]]})
    cassettes = tmp_path / "cassettes"
    responses = [
        (200, completion(tool_calls=[("c1", "get_weather", json.dumps({"city": "Rome"}))])),
        (200, completion("sunny, 21 C")),
    ]
    with serve(responses) as server:
        settings = Settings.load(
            openai_base_url=server.url, openai_api_key="sk-test", model="gpt-4o-mini"
        )
        model = openai_chat_model(settings)
        recorded = EvalReport(suite=one.name, model="gpt-4o-mini", threshold=1.0)
        asyncio.run(run_suite(one, model, settings, recorded, cassettes=cassettes, mode="all"))
    assert recorded.outcomes[0].passed, recorded.outcomes[0].problem
    assert (cassettes / "right.yaml").is_file()
    replayed = EvalReport(suite=one.name, model="gpt-4o-mini", threshold=1.0)
    asyncio.run(run_suite(one, model, settings, replayed, cassettes=cassettes, mode="none"))
    assert replayed.outcomes[0].passed  # the server is gone: this came from the cassette
    drifted_case = {**SUITE["cases"][0], "request": "weather in Rome, please?"}
    drifted = Suite.model_validate({**SUITE, "cases": [drifted_case]})
    report = EvalReport(suite=drifted.name, model="gpt-4o-mini", threshold=1.0)
    asyncio.run(run_suite(drifted, model, settings, report, cassettes=cassettes, mode="none"))
    assert report.outcomes[0].problem == (
        "prompt drift: a model request of case 'right' is not in its cassette"
    )
