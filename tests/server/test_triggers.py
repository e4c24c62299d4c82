"""Triggers: cron schedules on a test clock, events with payload templates, bad files named."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from podium.agent import Agent
from podium.errors import ConfigError, InvalidRequest
from podium.server.triggers import EventRule, Schedule, Triggers
from podium.tools.registry import tool

SEEN: list[str] = []


@tool
def order_status(order_id: str) -> str:
    """Look up the status of an order by its id."""
    SEEN.append(order_id)
    return f"order {order_id} shipped"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_an_event_fills_its_template_and_runs_the_agent() -> None:
    agent = Agent([order_status])
    triggers = Triggers(
        agent,
        events=[EventRule(event="order.paid", request="What is the status of order {id}?")],
    )
    [firing] = asyncio.run(triggers.fire("order.paid", {"id": "B-77"}))
    assert firing.stop_reason == "answered" and firing.trace_id
    assert "B-77" in SEEN
    assert list(triggers.history) == [firing]


def test_an_event_nobody_listens_for_is_named() -> None:
    triggers = Triggers(Agent([order_status]), events=[EventRule(event="a.b", request="x")])
    with pytest.raises(InvalidRequest, match=r"no trigger listens for event 'c\.d'.*known: a\.b"):
        asyncio.run(triggers.fire("c.d", {}))


def test_a_schedule_fires_when_due_and_once_for_missed_slots() -> None:
    clock = Clock(1_000_000.0)  # on a minute boundary plus 40 s
    agent = Agent([order_status])
    schedule = Schedule(name="poll", cron="* * * * *", request="status of order P-1?")
    triggers = Triggers(agent, schedules=[schedule], clock=clock)

    async def scenario() -> None:
        stop = asyncio.Event()
        loop = asyncio.create_task(triggers.run_schedules(stop, tick=0.01))
        await asyncio.sleep(0.05)
        assert not triggers.history  # not due yet
        clock.now += 20  # the next minute
        await asyncio.sleep(0.3)
        assert len(triggers.history) == 1
        clock.now += 600  # ten minutes missed at once
        await asyncio.sleep(0.3)
        stop.set()
        await loop

    asyncio.run(scenario())
    assert [f.trigger for f in triggers.history] == ["poll", "poll"]
    assert all(f.stop_reason == "answered" for f in triggers.history)
    assert triggers.next_runs()["poll"] == pytest.approx(1_000_680.0)


def test_a_run_still_going_on_a_thread_is_not_started_twice() -> None:
    agent = Agent([order_status])
    triggers = Triggers(
        agent, events=[EventRule(event="e", request="status of order {id}?", thread="t-{id}")]
    )

    async def twice() -> list[str | None]:
        first, second = await asyncio.gather(
            triggers.fire("e", {"id": "Q-1"}), triggers.fire("e", {"id": "Q-1"})
        )
        return [first[0].error, second[0].error]

    errors = asyncio.run(twice())
    assert errors.count(None) == 1
    assert any(e and "still going" in e for e in errors)


def test_a_triggers_file_is_read_and_its_errors_name_the_line(tmp_path: Path) -> None:
    agent = Agent([order_status])
    good = tmp_path / "triggers.yaml"
    good.write_text(
        "schedules:\n  - name: nightly\n    cron: '0 2 * * *'\n    request: status of order N-1\n"
        "events:\n  - event: ticket.created\n    request: 'status of order {order}'\n"
    )
    loaded = Triggers.load(agent, good)
    assert [s.name for s in loaded.schedules] == ["nightly"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("schedules:\n  - name: x\n    cron: '61 * * * *'\n    request: r\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml, line 3: schedules\.0\.cron.*not a cron"):
        Triggers.load(agent, bad)
    typo = tmp_path / "typo.yaml"
    typo.write_text("events:\n  - event: a\n    reqest: r\n")
    with pytest.raises(ConfigError, match=r"line 3: events\.0\.reqest.*did you mean 'request'"):
        Triggers.load(agent, typo)
    unknown = tmp_path / "who.yaml"
    unknown.write_text("events:\n  - {event: a, request: r, as: nobody}\n")
    with pytest.raises(ConfigError, match="principal 'nobody'"):
        Triggers.load(agent, unknown)


def test_another_principals_firings_do_not_push_a_principals_own_out_of_view(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /triggers shows each caller its own last firings: bob, allowed one event, fired it
    # as often as the history holds, and ann's firing was gone from her view.
    from podium.server import triggers as module
    from podium.server.app import create_app
    from tests.server.keyword_agent import agent, auth, tokens
    from tests.server.test_app import running

    monkeypatch.setattr(module, "HISTORY", 3)
    owner = agent(
        isolated, "principals:\n  ann: {scopes: [events:deploy]}\n  bob: {scopes: [events:ping]}\n"
    )
    rules = [
        EventRule(event="deploy", request="hello deploy"),
        EventRule(event="ping", request="hi"),
    ]
    with running(
        create_app(owner, Triggers(owner, events=rules), tokens=tokens("ann", "bob"))
    ) as client:
        assert client.post("/events/deploy", json={}, headers=auth("ann")).status_code == 200
        for _ in range(4):
            assert client.post("/events/ping", json={}, headers=auth("bob")).status_code == 200
        ann = client.get("/triggers", headers=auth("ann")).json()["history"]
        bob = client.get("/triggers", headers=auth("bob")).json()["history"]
    assert [f["trigger"] for f in ann] == ["deploy"]
    assert [f["trigger"] for f in bob] == ["ping"] * 3  # each principal's own, bounded
