"""A follow-up on the previous answer, on one thread of a real agent with the offline router."""

from __future__ import annotations

from typing import Any

import pytest

from podium import Agent, RunResult
from podium.tools.builtin import calculator, current_time


@pytest.fixture
def agent() -> Agent:  # the run's home is the test's own (tests/conftest.py)
    return Agent(tools=[calculator, current_time])


def calls(result: RunResult) -> list[tuple[str, dict[str, Any]]]:
    return [(c["name"], c["arguments"]) for c in result.tool_calls]


def test_that_is_the_previous_result(agent: Agent) -> None:
    agent.invoke("12 * 12", thread_id="t")
    result = agent.invoke("now divide that by 4", thread_id="t")
    assert calls(result) == [("calculator", {"expression": "144 / 4"})]  # not the clock's "now"
    assert "36" in result.answer
    follow = agent.invoke("multiply the result by 3", thread_id="t")
    assert calls(follow) == [("calculator", {"expression": "36 * 3"})]


def test_without_an_earlier_number_it_says_so_and_calls_nothing(agent: Agent) -> None:
    first = agent.invoke("now divide that by 4", thread_id="fresh")
    assert calls(first) == []
    assert "could not tell what 'that' refers to" in first.answer
    agent.invoke("what time is it in Tokyo?", thread_id="clock")
    after_time = agent.invoke("multiply it by 3", thread_id="clock")
    assert calls(after_time) == []  # a time is not a number to multiply


def test_other_threads_and_plain_requests_are_untouched(agent: Agent) -> None:
    agent.invoke("12 * 12", thread_id="a")
    other = agent.invoke("now divide that by 4", thread_id="b")
    assert calls(other) == []  # thread a's result is not thread b's
    clock = agent.invoke("what time is it now", thread_id="a")
    assert [name for name, _ in calls(clock)] == ["current_time"]
