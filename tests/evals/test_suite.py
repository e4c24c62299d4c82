"""Suite files: YAML and JSONL, and the errors that name the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.errors import ConfigError
from podium.evals.runner import registry_tools
from podium.evals.suite import Case, load_suite
from podium.evals.testing import cases_of, check_case

SHIPPED = Path(__file__).resolve().parents[2] / "podium" / "evals" / "suites"

GOOD = """\
name: demo
threshold: 0.5
tools: [calculator]
cases:
  - id: add
    request: What is 2 + 2?
    expect_calls: [{name: calculator, arguments: {expression: ["2 + 2"]}}]
    answer: {number: 4}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_suites_load_and_name_real_tools() -> None:
    for path in sorted(SHIPPED.glob("*.yaml")):
        suite = load_suite(path)
        registry_tools(suite)
        assert suite.cases


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("    request: What", "    reqest: What"),
            r"line 6: cases.0.reqest: unknown field",
        ),
        (GOOD.replace("threshold: 0.5", "threshold: 5"), r"line 2: threshold: Input should be"),
        (GOOD.replace("answer: {number: 4}", "answer: {number: four}"), r"line 8: cases.0.answer"),
        ("name: x\ncases: [", r"line 2: not valid YAML"),
    ],
)
def test_a_malformed_yaml_suite_names_the_line_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_suite(write(tmp_path, "suite.yaml", text))


def test_jsonl_suites_name_the_line_of_a_bad_case(tmp_path: Path) -> None:
    header = json.dumps({"name": "lines", "threshold": 1})
    good = json.dumps({"id": "a", "request": "hi", "expect_no_call": True})
    bad = json.dumps({"id": "b", "request": ""})
    suite = load_suite(write(tmp_path, "ok.jsonl", f"{header}\n{good}\n"))
    assert suite.name == "lines" and [c.id for c in suite.cases] == ["a"]
    with pytest.raises(ConfigError, match=r"bad.jsonl, line 3: request: String should have"):
        load_suite(write(tmp_path, "bad.jsonl", f"{header}\n{good}\n{bad}\n"))
    with pytest.raises(ConfigError, match=r"line 2: not valid JSON"):
        load_suite(write(tmp_path, "broken.jsonl", f"{header}\n{{nope\n"))


def test_a_case_naming_a_missing_tool_is_refused_before_running(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, "s.yaml", GOOD.replace("[calculator]", "[calculater]")))
    with pytest.raises(ConfigError, match="names a tool that does not exist: 'calculater'"):
        registry_tools(suite)


def test_contradictory_and_duplicate_cases_are_refused(tmp_path: Path) -> None:
    both = GOOD + "    expect_no_call: true\n"
    with pytest.raises(ConfigError, match="contradict"):
        load_suite(write(tmp_path, "a.yaml", both))
    twice = GOOD + "\n".join(GOOD.splitlines()[4:]) + "\n"
    with pytest.raises(ConfigError, match="two cases have the id 'add'"):
        load_suite(write(tmp_path, "b.yaml", twice))


BUILTIN = SHIPPED / "builtin.yaml"


@pytest.mark.parametrize("case", cases_of(BUILTIN), ids=lambda case: case.id)
def test_shipped_suite_as_pytest_cases(case: Case) -> None:
    outcome = check_case(BUILTIN, case)
    assert outcome.passed


def test_a_failing_case_fails_its_test() -> None:
    from podium.evals.matching import ExpectedCall

    order = next(c for c in cases_of(BUILTIN) if c.id == "select-order")
    wrong = ExpectedCall(name="refund_order", arguments={"order_id": [1234]})
    failing = order.model_copy(update={"expect_calls": [wrong]})
    with pytest.raises(AssertionError, match="eval case select-order failed: called lookup_order"):
        check_case(BUILTIN, failing)


def test_a_failing_case_in_pytest_shows_the_answer_and_the_calls() -> None:
    from podium.evals.matching import ExpectedCall

    order = next(c for c in cases_of(BUILTIN) if c.id == "select-order")
    wrong = ExpectedCall(name="refund_order", arguments={"order_id": [1234]})
    failing = order.model_copy(update={"expect_calls": [wrong]})
    with pytest.raises(AssertionError) as failed:
        check_case(BUILTIN, failing)
    message = str(failed.value).splitlines()
    assert message[0].startswith("eval case select-order failed: called lookup_order")
    assert message[1].startswith("  answer: ") and "shipped on 2026-11-20" in message[1]
    assert message[2] == "  calls: lookup_order(order_id=1234) -> ok"
