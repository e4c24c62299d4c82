"""Runs that fail inside, bad arguments to invoke, and side effects keyed to their call."""

from __future__ import annotations

import asyncio
import functools
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage

from podium.agent import Agent
from podium.config import Settings
from podium.errors import InvalidRequest, PodiumError
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool


def test_a_failure_inside_a_run_ends_it_and_the_thread_stays_usable() -> None:
    # A reply no checkpoint can hold makes LangGraph raise inside the run.
    broken = AIMessage(content="x", additional_kwargs={"handle": object()})
    model = ScriptedChatModel(turns=[broken, "fine again"])
    agent = Agent(model=model, guards=None)
    failed = agent.invoke("first", thread_id="t")
    assert failed.stop_reason == "error" and "TypeError" in failed.answer
    assert not asyncio.run(agent.athread("t")).unfinished
    again = agent.invoke("second", thread_id="t")
    assert again.stop_reason == "answered" and again.answer == "fine again"


def test_an_absurd_argument_is_refused_and_the_thread_goes_on(isolated: Path) -> None:
    agent = Agent(builtins=True)  # the offline router reads 1e308 as a 309-digit integer
    result = agent.invoke("read the file notes.txt with max_chars 1e308", thread_id="t")
    assert result.stop_reason == "answered"
    assert [c["status"] for c in result.tool_calls] == ["invalid_arguments"]
    assert "309 digits is out of range" in result.tool_calls[0]["output"]
    assert agent.invoke("what is 2 + 3", thread_id="t").stop_reason == "answered"


def test_calls_without_ids_each_run_once_in_every_run_of_a_thread(tmp_path: Path) -> None:
    charged: list[int] = []

    @tool(side_effects=True)
    def charge(amount: int) -> str:
        """Charge the card."""
        charged.append(amount)
        return f"charged {amount}"

    def no_id(amount: int) -> AIMessage:
        made = calls(call("charge", amount=amount))
        made.tool_calls[0]["id"] = None  # a model that omits call ids
        return made

    model = ScriptedChatModel(turns=[no_id(5), "done", no_id(9), "done"])
    agent = Agent([charge], model=model, guards=None)
    first = agent.invoke("charge 5", thread_id="cards")
    second = agent.invoke("charge 9", thread_id="cards")
    assert [c["status"] for c in [*first.tool_calls, *second.tool_calls]] == ["ok", "ok"]
    assert charged == [5, 9]  # the second call was not "replayed" as the first


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"request": "hi \udfff there"}, "not valid Unicode"),
        ({"request": "hi", "thread_id": 7}, "a thread id must be text"),
        ({"request": "hi", "thread_id": ""}, "a thread id must be text"),
        ({"request": "hi", "thread_id": "t\ud800"}, "not valid Unicode"),
        ({"request": "hi", "principal": {"id": "x"}}, "principal must be a Principal"),
        ({"request": b"bytes"}, "the request must be text"),
    ],
)
def test_bad_arguments_to_invoke_are_named(arguments: dict[str, object], message: str) -> None:
    agent = Agent(model=ScriptedChatModel(turns=["never"]), guards=None)
    with pytest.raises(InvalidRequest, match=message):
        agent.invoke(**arguments)  # type: ignore[arg-type]


@functools.cache
def fuzzed_agent() -> Agent:
    home = Path(tempfile.mkdtemp(prefix="podium-fuzz-"))
    return Agent(builtins=True, settings=Settings.load(home=home, audit=False))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=0, max_size=300))
def test_any_text_gets_a_result_or_a_named_error(text: str) -> None:
    try:
        result = fuzzed_agent().invoke(text)
    except PodiumError:
        return  # empty, too long, not Unicode: named, with a fix
    assert result.stop_reason != "error", result.answer
