"""The durable event bus's tables in a real Postgres: each event once per key, jobs queued."""

from __future__ import annotations

import psycopg
import pytest

from podium.errors import ConfigError
from podium.guardrails.policy import Policy
from podium.patterns.bus import EventBus
from tests.server.cluster import cluster_agent


def _bus(url: str) -> EventBus:
    bus = EventBus(Policy(), database_url=url)
    bus.subscribe("a", cluster_agent(url), "order", "order {n}")
    bus.subscribe("b", cluster_agent(url), "order", "order {n}")
    bus.subscribe("c", cluster_agent(url), "other", "other {n}")
    return bus


def test_a_publish_keeps_the_event_and_queues_a_job_per_subscriber_once_per_key(
    database_url: str,
) -> None:
    bus = _bus(database_url)
    key = bus.publish("order", {"n": "1"}, key="order-1")
    assert key == "order-1"
    assert bus.publish("order", {"n": "1"}, key="order-1") == "order-1"  # sent twice
    fresh = bus.publish("order", {"n": "2"})
    assert fresh is not None and fresh != key
    with psycopg.connect(database_url) as db:
        jobs = db.execute(
            "SELECT args->>'event', args->>'subscriber', queue_name FROM procrastinate_jobs "
            "ORDER BY id"
        ).fetchall()
        events = db.execute("SELECT id, payload FROM podium_bus_events ORDER BY at").fetchall()
    assert jobs == [
        ("order-1", "a", "events"),
        ("order-1", "b", "events"),
        (fresh, "a", "events"),
        (fresh, "b", "events"),
    ]
    assert events == [("order-1", {"n": "1"}), (fresh, {"n": "2"})]


def test_a_durable_bus_is_not_drained_in_process(database_url: str) -> None:
    bus = _bus(database_url)
    with pytest.raises(ConfigError, match="podium worker"):
        bus.run("order", {"n": "1"})


def test_a_plain_bus_stays_in_process_where_a_database_url_is_set(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_core.messages import AIMessage

    from podium.agent import Agent
    from podium.planner.models.scripted import ScriptedChatModel
    from podium.storage.postgres import PostgresStorage

    monkeypatch.setenv("PODIUM_DATABASE_URL", database_url)  # set for the checkpoints
    agent = Agent(model=ScriptedChatModel(turns=[AIMessage(content="noted")], repeat_last=True))
    bus = EventBus(Policy())
    bus.subscribe("a", agent, "order", "order {n}")
    assert bus.storage is None and bus.publish("order", {"n": "1"}) is None
    delivered = [(d.agent, d.status, d.answer) for d in bus.run("order", {"n": "2"})]
    assert delivered == [("a", "answered", "noted")] * 2  # both events, here
    assert isinstance(agent.storage, PostgresStorage)  # the agent's threads do use the database


def test_a_bus_asked_to_be_durable_takes_the_configured_database(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODIUM_DATABASE_URL", database_url)
    bus = EventBus(Policy(), durable=True)
    assert bus.durable and bus.storage is not None and bus.storage.url == database_url
    explicit = EventBus(Policy(), database_url=database_url)
    assert explicit.durable and explicit.storage is not None
    assert database_url not in repr(explicit)  # the URL may hold a password


def test_a_bus_asked_to_be_durable_without_a_database_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="PODIUM_DATABASE_URL is not set") as raised:
        EventBus(Policy(), durable=True)
    assert "drop durable=True" in raised.value.fix


def test_a_worker_refuses_a_bus_without_a_database(database_url: str) -> None:
    from podium.server.worker import Worker

    with pytest.raises(ConfigError, match="durable bus"):
        Worker(cluster_agent(database_url), bus=EventBus(Policy()))


def test_a_bus_with_no_subscriptions_refuses_to_keep_an_event_nobody_gets(
    database_url: str,
) -> None:
    publisher_only = EventBus(Policy(), database_url=database_url)
    with pytest.raises(ConfigError, match="no subscriptions"):
        publisher_only.publish("order", {"n": "1"}, key="order-9")
    with psycopg.connect(database_url) as db:  # nothing was kept to wait for ever
        table = db.execute("SELECT to_regclass('podium_bus_events')").fetchone()
        if table is not None and table[0] is not None:
            kept = db.execute("SELECT count(*) FROM podium_bus_events WHERE id = 'order-9'")
            assert kept.fetchone() == (0,)


def test_a_worker_refuses_a_bus_in_another_database(database_url: str) -> None:
    from podium.server.worker import Worker

    other = database_url.rsplit("/", 1)[0] + "/postgres"
    bus = EventBus(Policy(), database_url=other)
    with pytest.raises(ConfigError, match="another database"):
        Worker(cluster_agent(database_url), bus=bus)


async def test_an_async_publish_keeps_the_loop_free(database_url: str) -> None:
    import threading
    from typing import Any

    bus = _bus(database_url)
    seen: list[int] = []
    original = bus.publish

    def publish(topic: str, payload: dict[str, Any] | None = None, key: str | None = None) -> Any:
        seen.append(threading.get_ident())  # where the database work of the publish runs
        return original(topic, payload, key)

    bus.publish = publish  # type: ignore[method-assign]
    key = await bus.apublish("order", {"n": "7"}, key="order-7")
    assert key == "order-7"
    assert seen and threading.get_ident() not in seen  # not on the event loop's thread
