"""The tracer: a sink that fails is reported in the run's result, and the run goes on."""

from __future__ import annotations

from podium.agent import Agent
from podium.planner.models.scripted import ScriptedChatModel
from podium.tracing.events import Event


def test_a_failing_sink_is_a_warning_of_the_run_not_silence() -> None:
    seen: list[Event] = []

    def broken(event: Event) -> None:
        seen.append(event)
        raise RuntimeError("collector unreachable")

    agent = Agent([], model=ScriptedChatModel(turns=["hi"]), guards=None, sinks=[broken])
    result = agent.invoke("hello")
    assert result.ok and result.answer == "hi"
    assert len(seen) == len(result.events)  # every event was still offered to it
    failures = [w for w in result.warnings if w.startswith("trace sink")]
    assert failures == [
        "trace sink test_a_failing_sink_is_a_warning_of_the_run_not_silence.<locals>.broken "
        "failed: RuntimeError: collector unreachable; it may lack events of this run"
    ]
