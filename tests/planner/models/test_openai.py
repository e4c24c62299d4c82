"""The OpenAI-compatible path against a live loopback server (no cassette): what goes over HTTP."""

from __future__ import annotations

from podium.agent import Agent
from podium.config import Settings
from podium.planner.models.openai import openai_chat_model
from podium.results import RunResult
from podium.tracing.events import Retried
from tests.planner.openai_server import completion, serve


def test_blocking_runs_in_one_process_each_send_one_request_and_retry_none() -> None:
    # The client keeps one connection pool per process; each blocking call used to start a
    # loop of its own, so every run after the first failed its first call ("Event loop is
    # closed"), was retried, and the server's tokens went uncounted.
    answers = [(200, completion(f"answer {n}")) for n in range(3)]
    with serve(answers) as server:
        settings = Settings.load(
            model="gpt-4o-mini", openai_api_key="sk-test", openai_base_url=server.url
        )
        agent = Agent(model=openai_chat_model(settings), settings=settings, guards=None)
        first = agent.invoke("one")
        second = agent.invoke("two")
        third = [i for i in agent.stream("three") if isinstance(i, RunResult)][0]
    assert [r.answer for r in (first, second, third)] == ["answer 0", "answer 1", "answer 2"]
    assert len(server.requests) == 3
    for result in (first, second, third):
        assert not [e for e in result.events if isinstance(e, Retried)], result.events
        assert result.usage.input_tokens == 50 and result.usage.model_calls == 1
