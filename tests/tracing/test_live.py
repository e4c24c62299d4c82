"""Watching a run as it happens: tokens as the model writes them, corrections, sub-agents."""

from __future__ import annotations

from podium.agent import Agent
from podium.config import Settings
from podium.guardrails.screens import Screens
from podium.planner.models.openai import openai_chat_model
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.results import RunResult
from podium.tools.registry import tool
from podium.tracing.events import Event, ModelCalled
from podium.tracing.live import SubagentEvent, TokensDiscarded, TokenStreamed
from tests.planner.openai_server import completion, serve


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_tokens_arrive_as_the_server_streams_them_and_usage_is_counted() -> None:
    script = [
        (200, completion(None, [("c1", "add", '{"a": 2, "b": 3}')])),
        (200, completion("two and three make five")),
    ]
    with serve(script) as server:
        settings = Settings.load(model="m", openai_api_key="sk-test", openai_base_url=server.url)
        agent = Agent([add], model=openai_chat_model(settings), settings=settings, guards=None)
        items = list(agent.stream("add 2 and 3", mode="both"))
    assert all(request["stream"] for request in server.requests)
    tokens = [i.text for i in items if isinstance(i, TokenStreamed)]
    assert tokens == ["two", " and", " three", " make", " five"]
    result = items[-1]
    assert isinstance(result, RunResult) and result.answer == "two and three make five"
    assert [c["status"] for c in result.tool_calls] == ["ok"]  # a streamed call, parsed
    assert result.usage.input_tokens == 100 and result.usage.model_calls == 2
    # Tokens come before the model call's own event, and never reach the record.
    assert items.index(next(i for i in items if isinstance(i, TokenStreamed))) < max(
        n for n, i in enumerate(items) if isinstance(i, ModelCalled)
    )
    assert not [e for e in result.events if isinstance(e, TokenStreamed)]


def test_event_mode_streams_no_tokens_and_token_mode_no_events() -> None:
    agent = Agent([add], model=ScriptedChatModel(turns=["hello there"], repeat_last=True))
    kinds = {type(i).__name__ for i in agent.stream("hi")}
    assert "TokenStreamed" not in kinds and "RunStarted" in kinds
    tokens = list(agent.stream("hi", mode="tokens"))
    assert [type(i).__name__ for i in tokens] == ["TokenStreamed", "RunResult"]


def test_a_streamed_answer_a_guard_changes_is_withdrawn_with_the_answer_as_it_stands() -> None:
    model = ScriptedChatModel(turns=["Write to ana.lopez@example.com for the refund."])
    agent = Agent(model=model, guards=Screens.default())
    items = list(agent.stream("who handles refunds?", mode="tokens"))
    streamed = "".join(i.text for i in items if isinstance(i, TokenStreamed))
    assert "ana.lopez@example.com" in streamed  # the watcher saw the text as written...
    [withdrawn] = [i for i in items if isinstance(i, TokensDiscarded)]
    result = items[-1]
    assert isinstance(result, RunResult)
    assert "ana.lopez@example.com" not in result.answer  # ...then this replaced it
    assert withdrawn.replacement == result.answer and "guard" in withdrawn.reason


def _desk() -> Agent:
    inner = Agent(
        [add], model=ScriptedChatModel(turns=[calls(call("add", a=1, b=2)), "three"]), guards=None
    )
    return Agent(
        [inner.as_tool("math", "Does arithmetic.")],
        model=ScriptedChatModel(turns=[calls(call("math", request="1 + 2")), "it is three"]),
        guards=None,
    )


def test_a_sub_agents_tokens_and_events_reach_its_callers_watchers_by_name() -> None:
    items: list[Event | RunResult] = list(_desk().stream("what is 1 + 2?", mode="both"))
    nested = [i for i in items if isinstance(i, SubagentEvent)]
    assert {i.agent for i in nested} == {"math"}
    kinds = [i.event["kind"] for i in nested]
    assert "token" in kinds and "tool_call" in kinds and "run_finished" in kinds
    assert next(i.event["text"] for i in nested if i.event["kind"] == "token") == "three"
    only_tokens = list(_desk().stream("what is 1 + 2?", mode="tokens"))
    nested_kinds = {i.event["kind"] for i in only_tokens if isinstance(i, SubagentEvent)}
    assert nested_kinds == {"token"}


def test_a_server_that_streams_malformed_chunks_is_named_and_retried() -> None:
    broken = b'data: {"id": "x", "choices": [{"delta": {"content": "Hel\n\ndata: [DONE]\n\n'
    with serve([(200, broken)] * 2) as server:
        settings = Settings.load(
            model="m", openai_api_key="sk-test", openai_base_url=server.url, model_retries=1
        )
        agent = Agent(model=openai_chat_model(settings), settings=settings, guards=None)
        items = list(agent.stream("hi", mode="both"))
    result = items[-1]
    assert isinstance(result, RunResult) and result.stop_reason == "model_error"
    assert len(server.requests) == 2 and "fix:" in result.answer  # retried once, then named
