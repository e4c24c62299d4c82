"""The OpenAI-compatible path against a live loopback server (no cassette): what goes over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from podium.agent import Agent
from podium.config import Settings
from podium.planner.models.openai import openai_chat_model
from podium.results import RunResult
from podium.tools.registry import tool
from podium.tracing.events import Retried
from tests.planner.openai_server import completion, serve


def test_blocking_runs_in_one_process_each_send_one_request_and_retry_none() -> None:
    # The client keeps one connection pool per process; each blocking call used to start a
    # loop of its own, so every run after the first failed its first call ("Event loop is
    # closed"), was retried, and the server's tokens went uncounted.
    answers: list[tuple[int, dict[str, Any] | bytes]] = [
        (200, completion(f"answer {n}")) for n in range(3)
    ]
    with serve(answers) as server:
        settings = Settings.load(
            model="gpt-4o-mini", openai_api_key="sk-test", openai_base_url=server.url
        )
        agent = Agent(model=openai_chat_model(settings), settings=settings, guards=None)
        first = agent.invoke("one")
        second = agent.invoke("two")
        third = next(i for i in agent.stream("three") if isinstance(i, RunResult))
    assert [r.answer for r in (first, second, third)] == ["answer 0", "answer 1", "answer 2"]
    assert len(server.requests) == 3
    for result in (first, second, third):
        assert not [e for e in result.events if isinstance(e, Retried)], result.events
        assert result.usage.input_tokens == 50 and result.usage.model_calls == 1


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _arguments_as_an_object() -> dict[str, Any]:
    answer = completion(None, [("c1", "add", '{"a": 1, "b": 2}')])
    answer["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = {"a": 1, "b": 2}
    return answer


def _invalid(status: int) -> tuple[int, dict[str, Any]]:
    message = "1 validation error for ChatCompletionRequest\nmessages.1.content\n  Input should be"
    return status, {"error": {"message": message, "type": "internal_server_error"}}


@pytest.mark.parametrize(
    ("responses", "sent", "stop_reason", "said"),
    [
        ([(200, b"<html>sign in</html>")] * 3, 3, "model_error", "not JSON: check that OPENAI"),
        ([(200, {**completion("x"), "choices": []})] * 3, 3, "model_error", "held no choices"),
        ([(200, _arguments_as_an_object()), (200, completion("3"))], 2, "answered", "3"),
        ([_invalid(422)] * 3, 1, "model_error", "rejected the request as invalid (HTTP 422"),
        ([_invalid(500)] * 3, 1, "model_error", "rejected the request as invalid (HTTP 500"),
        ([(404, {"error": {"message": "Not Found"}})], 1, "model_error", "/v1/chat/completions"),
    ],
    ids=["non-json", "no-choices", "object-arguments", "422", "500-validation", "404"],
)
def test_what_servers_send_back_is_read_or_named_with_the_fix(
    responses: list[tuple[int, dict[str, Any] | bytes]], sent: int, stop_reason: str, said: str
) -> None:
    with serve(responses) as server:
        settings = Settings.load(
            model="m", openai_api_key="sk-test", openai_base_url=server.url, model_retries=2
        )
        agent = Agent([add], model=openai_chat_model(settings), settings=settings, guards=None)
        result = agent.invoke("add 1 and 2")
    assert len(server.requests) == sent
    assert result.stop_reason == stop_reason and said in result.answer, result.answer
    if stop_reason == "model_error":
        assert "fix:" in result.answer
        body = result.answer.split("(fix:")[0]
        assert body.count("Input should be") <= 1  # the server's message once, not twice


def test_a_turn_that_only_calls_tools_is_sent_back_with_empty_content_not_null() -> None:
    # llama-cpp-python's server answers HTTP 500 to "content": null on every second round.
    with serve(
        [(200, completion(None, [("c1", "add", '{"a": 1, "b": 2}')])), (200, completion("3"))]
    ) as server:
        settings = Settings.load(model="m", openai_api_key="sk-test", openai_base_url=server.url)
        agent = Agent([add], model=openai_chat_model(settings), settings=settings, guards=None)
        assert agent.invoke("add 1 and 2").answer == "3"
    assistant = [m for m in server.requests[1]["messages"] if m["role"] == "assistant"]
    assert assistant and assistant[0]["content"] == "" and assistant[0]["tool_calls"]


def test_tool_choice_auto_is_sent_whenever_tools_are_bound() -> None:
    # llama-cpp-python's server drops the tools silently when no tool_choice is sent.
    with serve([(200, completion("hi"))]) as server:
        settings = Settings.load(model="m", openai_api_key="sk-test", openai_base_url=server.url)
        Agent([add], model=openai_chat_model(settings), settings=settings, guards=None).invoke("hi")
    assert server.requests[0]["tool_choice"] == "auto" and server.requests[0]["tools"]


def test_a_forced_tool_choice_holds_until_the_first_tool_round() -> None:
    from podium.planner.models.scripted import ScriptedChatModel, call, calls

    model = ScriptedChatModel(turns=[calls(call("add", a=1, b=2)), "3"])
    agent = Agent([add], model=model, guards=None, tool_choice="required")
    assert agent.invoke("add 1 and 2").answer == "3"
    assert [c.tool_choice for c in model.calls] == ["required", "auto"]
    named = ScriptedChatModel(turns=["no tools"])
    Agent([add], model=named, guards=None).invoke("hi", tool_choice="add")
    assert named.calls[0].tool_choice == "add"
    never = ScriptedChatModel(turns=["no tools"])
    Agent([add], model=never, guards=None, settings=Settings.load(tool_choice="none")).invoke("x")
    assert never.calls[0].tool_choice == "none"


def test_an_unknown_tool_choice_is_named_before_anything_runs() -> None:
    from podium.errors import InvalidRequest
    from podium.planner.models.scripted import ScriptedChatModel

    agent = Agent([add], model=ScriptedChatModel(turns=[]), guards=None)
    with pytest.raises(InvalidRequest, match=r"tool_choice 'ad' .* did you mean 'add'"):
        agent.invoke("x", tool_choice="ad")


def test_with_no_model_named_the_servers_one_model_is_used_and_not_priced() -> None:
    # Asking a local server for OpenAI's default model, priced at OpenAI's rates, was wrong
    # twice over: the model is the server's, and so is its price (unknown unless given).
    with serve([(200, completion("hi")), (200, completion("hi"))], models=["qwen-7b"]) as server:
        settings = Settings.load(openai_base_url=server.url)
        result = Agent(settings=settings, guards=None).invoke("hi")
        priced = Settings.load(
            openai_base_url=server.url, prices={"qwen-7b": {"input": 1.0, "output": 2.0}}
        )
        paid = Agent(settings=priced, guards=None).invoke("hi")
    assert server.requests[0]["model"] == "qwen-7b" and result.model == "qwen-7b"
    assert result.usage.cost_usd == 0 and not result.usage.cost_known
    assert paid.usage.cost_known and paid.usage.cost_usd == pytest.approx(70 / 1_000_000)


def test_a_server_with_several_models_or_none_reachable_is_named() -> None:
    from podium.errors import ConfigError

    with serve([], models=["a", "b"]) as server:
        with pytest.raises(ConfigError, match=r"serves 2 models: a, b \(fix: set PODIUM_MODEL"):
            Agent(settings=Settings.load(openai_base_url=server.url))
    with pytest.raises(ConfigError, match=r"127.0.0.1:1/v1/models did not list its models"):
        Agent(settings=Settings.load(openai_base_url="http://127.0.0.1:1/v1"))


def test_a_cost_budget_without_a_price_is_refused_at_once() -> None:
    from podium.errors import ConfigError

    with serve([], models=["qwen-7b"]) as server:
        settings = Settings.load(openai_base_url=server.url, max_cost_usd=0.5)
        with pytest.raises(ConfigError, match="needs the price of model 'qwen-7b'"):
            Agent(settings=settings)


def test_the_context_window_is_the_servers_or_must_be_set() -> None:
    from podium.errors import ConfigError

    with serve([], models=["qwen-7b"], context=4096) as server:
        assert Agent(settings=Settings.load(openai_base_url=server.url)).context_window == 4096
    with serve([], models=["qwen-7b"], context=None) as server:
        with pytest.raises(ConfigError, match="set PODIUM_CONTEXT_WINDOW"):
            Agent(settings=Settings.load(openai_base_url=server.url))
        settings = Settings.load(openai_base_url=server.url, context_window=2048)
        assert Agent(settings=settings).context_window == 2048


def test_a_server_that_never_answers_is_cut_off_by_the_time_limit_and_the_call_cancelled() -> None:
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    closed = threading.Event()

    def silent() -> None:  # reads the request, answers nothing, notices the client leaving
        connection, _ = listener.accept()
        connection.settimeout(30)
        while connection.recv(65536):
            pass
        closed.set()

    threading.Thread(target=silent, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    settings = Settings.load(
        model="m",
        openai_api_key="sk-test",
        openai_base_url=url,
        max_seconds=2,
        model_retries=0,
        context_window=2048,
    )
    agent = Agent(model=openai_chat_model(settings), settings=settings, guards=None)
    started = time.monotonic()
    result = agent.invoke("hello?")
    assert result.stop_reason == "time_limit" and time.monotonic() - started < 10
    assert closed.wait(10), "the request was left running after the run gave up on it"
    listener.close()
