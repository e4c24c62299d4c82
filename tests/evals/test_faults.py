"""Malformed model outputs never crash a run; each gets a clear message and the run recovers."""

from __future__ import annotations

from podium.agent import Agent
from podium.config import Settings
from podium.evals.faults import KINDS, malformed_outputs
from podium.planner.models.scripted import ScriptedChatModel
from podium.tools.registry import tool

CLEAR = ("error:", "not run", "blocked", "the output of")


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_every_kind_of_malformed_output_gets_a_clear_message_and_the_run_recovers() -> None:
    settings = Settings.load(durability="exit", audit=False)
    seen: set[str] = set()
    for kind, reply in malformed_outputs(len(KINDS) * 12, seed=7):
        model = ScriptedChatModel(turns=[reply, "recovered"])
        result = Agent([add], model=model, settings=settings).invoke("add")
        assert result.answer == "recovered", (kind, result.answer)
        ids = [c["call_id"] for c in result.tool_calls]
        assert len(ids) == len(set(ids)) and all(ids), kind  # one result per call, always
        failed = [c for c in result.tool_calls if c["status"] != "ok"]
        assert failed or kind == "missing_id", kind
        for outcome in failed:
            assert outcome["output"].startswith(CLEAR), (kind, outcome["output"][:200])
            assert len(outcome["output"]) < 2_000 and "\x00" not in outcome["output"]
        seen.add(kind)
    assert seen == set(KINDS)
