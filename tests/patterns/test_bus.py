"""Choreography on the event bus: chains of reactions, one policy, cycles and storms bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.agent import Agent
from podium.errors import ConfigError, InvalidRequest
from podium.guardrails.policy import Policy
from podium.patterns.bus import EventBus
from podium.results import RunResult
from podium.tools.registry import tool

NOTED: list[str] = []


@tool(repeatable=True)
def note_ping(text: str) -> str:
    """Note a ping message."""
    NOTED.append(text)
    return f"noted ping {text}"


@tool(repeatable=True)
def note_pong(text: str) -> str:
    """Note a pong message."""
    return f"noted pong {text}"


@tool(scopes=["admin"])
def wipe_ping(text: str) -> str:
    """Wipe every ping message."""
    return "wiped"


def policy(tmp_path: Path, text: str = "") -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(text or "principals:\n  bot: {}\n")
    return Policy.load(path)


def test_an_agent_is_not_woken_by_an_event_it_caused(tmp_path: Path) -> None:
    bus = EventBus(policy(tmp_path))
    bus.subscribe("pinger", Agent([note_ping]), "ping", "note ping {n}", publishes="pong")
    bus.subscribe("ponger", Agent([note_pong]), "pong", "note pong {n}", publishes="ping")
    deliveries = bus.run("ping", {"n": "1"})
    assert [(d.agent, d.status) for d in deliveries] == [
        ("pinger", "answered"),
        ("ponger", "answered"),
        ("pinger", "skipped"),
    ]
    assert deliveries[-1].answer == "cycle: pinger -> ponger -> pinger"
    assert deliveries[1].chain == ["pinger"]


def test_a_storm_of_events_is_capped_with_a_clear_error(tmp_path: Path) -> None:
    bus = EventBus(policy(tmp_path), max_events=3)
    for index in range(5):
        bus.publish("ping", {"n": str(index)})
    bus.subscribe("pinger", Agent([note_ping]), "ping", "note ping {n}")
    with pytest.raises(InvalidRequest, match=r"more than 3 events in one drain \(3 dropped\)"):
        bus.run("ping", {"n": "x"})


def test_one_policy_governs_every_agent_on_the_bus(tmp_path: Path) -> None:
    rules = "principals:\n  bot: {}\n  root: {scopes: [admin]}\n"
    lenient = Agent([wipe_ping], policy=Policy())  # its own policy would let anyone wipe
    bus = EventBus(policy(tmp_path, rules))
    bus.subscribe("wiper", lenient, "ping", "wipe ping {n}", principal="bot")
    [delivery] = bus.run("ping", {"n": "1"})
    assert "permission denied" in delivery.answer and "admin" in delivery.answer
    with pytest.raises(ConfigError, match="principal 'nobody'"):
        bus.subscribe("x", Agent([note_ping]), "ping", "r", principal="nobody")


def test_a_failing_subscriber_stops_no_other(tmp_path: Path) -> None:
    class Broken(Agent):
        async def ainvoke(self, *args: object, **kwargs: object) -> RunResult:
            raise RuntimeError("crashed")

    bus = EventBus(policy(tmp_path))
    bus.subscribe("broken", Broken([note_ping]), "ping", "note ping {n}")
    bus.subscribe("fine", Agent([note_ping]), "ping", "note ping {n}")
    bus.subscribe("picky", Agent([note_ping]), "ping", "note ping {missing}")
    by_agent = {d.agent: d for d in bus.run("ping", {"n": "7"})}
    assert by_agent["broken"].status == "failed" and "crashed" in by_agent["broken"].answer
    assert (
        by_agent["picky"].status == "failed" and "needs field 'missing'" in by_agent["picky"].answer
    )
    assert by_agent["fine"].status == "answered"


def test_tools_of_every_subscriber_are_checked_against_the_policy_together(
    tmp_path: Path,
) -> None:
    rules = "principals:\n  bot: {}\ntools:\n  no_such_tool: {scopes: [x]}\n"
    bus = EventBus(policy(tmp_path, rules))
    bus.subscribe("pinger", Agent([note_ping]), "ping", "note ping {n}")
    with pytest.raises(ConfigError, match="no_such_tool"):
        bus.run("ping", {"n": "1"})
