"""The OpenAI path end to end: the real openai client's HTTP, replayed from vcrpy cassettes.

Each cassette was recorded from the client's real requests to a loopback OpenAI-compatible
server (tests/planner/openai_server.py) that answers with OpenAI's documented response
shapes. Replay needs no server: a request that no longer matches the recorded one (same
messages and tools) fails the test, naming the difference.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import vcr

from podium.agent import Agent
from podium.config import Settings
from podium.planner.models.openai import openai_chat_model
from podium.results import RunResult
from podium.tools.registry import tool
from tests.planner.openai_server import completion, rate_limited, serve

CASSETTES = Path(__file__).parent.parent / "cassettes"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def _conversation(body: bytes | str | None) -> Any:
    data = json.loads(body or "{}")
    return data.get("messages"), [t["function"]["name"] for t in data.get("tools", [])]


def same_conversation(recorded: Any, sent: Any) -> None:
    """vcrpy matcher: the same messages and tool names (other request fields may drift)."""
    assert _conversation(recorded.body) == _conversation(sent.body)


recorder = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="once",
    match_on=["method", "path", "conversation"],
    filter_headers=["authorization", "openai-organization", "x-stainless-os"],
    decode_compressed_response=True,
)
recorder.register_matcher("conversation", same_conversation)


@contextmanager
def recorded(name: str, responses: list[tuple[int, dict[str, Any]]]) -> Iterator[Settings]:
    """Settings for the OpenAI path, replaying ``name`` or recording it from a loopback server."""
    with serve(responses) as server, recorder.use_cassette(f"{name}.yaml") as cassette:
        base_url = server.url if not cassette.rewound else "http://127.0.0.1:1/v1"
        # The loopback server stands in for OpenAI: its base URL is not OpenAI's, so the
        # price of gpt-4o-mini is given as OpenAI lists it (another server is never priced
        # at OpenAI's rates on its own).
        yield Settings.load(
            model="gpt-4o-mini",
            openai_api_key="sk-test",
            openai_base_url=base_url,
            model_retries=2,
            prices={"gpt-4o-mini": {"input": 0.15, "output": 0.60}},
        )
        if cassette.rewound:
            assert cassette.all_played, f"{name}: some recorded requests were never sent"


def run(settings: Settings, request: str) -> RunResult:
    agent = Agent(
        [add, multiply], model=openai_chat_model(settings), settings=settings, guards=None
    )
    return agent.invoke(request)


def test_tool_call_then_answer_with_usage_and_cost() -> None:
    script = [
        (
            200,
            completion(
                tool_calls=[("call_1", "add", '{"a": 2, "b": 3}')],
                prompt_tokens=120,
                completion_tokens=20,
            ),
        ),
        (200, completion("2 + 3 = 5.", prompt_tokens=160, completion_tokens=8)),
    ]
    with recorded("openai_tool_call", script) as settings:
        result = run(settings, "What is 2 + 3?")
    assert result.answer == "2 + 3 = 5." and result.ok
    assert [(c["call_id"], c["output"]) for c in result.tool_calls] == [("call_1", "5")]
    assert (result.usage.input_tokens, result.usage.output_tokens) == (280, 28)
    assert result.usage.cost_usd == pytest.approx((280 * 0.15 + 28 * 0.60) / 1e6)


def test_parallel_tool_calls_in_one_turn() -> None:
    script = [
        (
            200,
            completion(
                tool_calls=[
                    ("call_a", "add", '{"a": 1, "b": 2}'),
                    ("call_m", "multiply", '{"a": 3, "b": 4}'),
                ]
            ),
        ),
        (200, completion("3 and 12.")),
    ]
    with recorded("openai_parallel_tool_calls", script) as settings:
        result = run(settings, "Add 1 and 2, and multiply 3 by 4.")
    assert [(c["name"], c["output"], c["step"]) for c in result.tool_calls] == [
        ("add", "3", 1),
        ("multiply", "12", 1),
    ]
    assert result.usage.steps == 2


def test_rate_limit_is_retried_then_succeeds() -> None:
    script = [rate_limited(), (200, completion("Hello."))]
    with recorded("openai_rate_limit_then_success", script) as settings:
        result = run(settings, "Say hello.")
    assert result.answer == "Hello." and result.usage.model_calls == 1


def test_malformed_tool_arguments_are_reported_back_and_recovered() -> None:
    script = [
        (200, completion(tool_calls=[("call_bad", "add", '{"a": 2, "b":')])),
        (200, completion(tool_calls=[("call_ok", "add", '{"a": 2, "b": 2}')])),
        (200, completion("4.")),
    ]
    with recorded("openai_malformed_arguments", script) as settings:
        result = run(settings, "What is 2 + 2?")
    assert [c["status"] for c in result.tool_calls] == ["invalid_arguments", "ok"]
    assert "not valid JSON" in result.tool_calls[0]["output"]
    assert result.answer == "4."


def test_cassettes_hold_no_credentials() -> None:
    for cassette in CASSETTES.glob("openai_*.yaml"):
        assert "sk-test" not in cassette.read_text(), cassette.name


def test_a_request_that_drifted_from_the_cassette_fails_loudly() -> None:
    settings = Settings.load(
        model="gpt-4o-mini",
        openai_api_key="sk-test",
        openai_base_url="http://127.0.0.1:1/v1",
        model_retries=0,
    )
    with recorder.use_cassette("openai_tool_call.yaml"):
        result = run(settings, "What is 3 + 3?")  # the cassette recorded "What is 2 + 3?"
    assert result.stop_reason == "model_error"
    assert "CannotOverwriteExistingCassetteException" in result.answer
