"""Choreography: agents react to events on an in-process bus; nobody orchestrates them.

An agent subscribes to a topic with a request template (``{field}`` takes the event's
payload) and may publish its answer as a new event. One policy governs every agent on the
bus, and every run acts as its subscription's principal. Events carry the chain of agents
that caused them: an agent is never woken again by an event it caused (a cycle), chains stop
at ``max_depth``, and one ``drain`` handles at most ``max_events`` events.

Asked for (``durable=True``, which takes ``PODIUM_DATABASE_URL``, or a ``database_url``) the
bus is durable and cluster-wide: ``publish`` keeps the event in Postgres and queues a job for
each subscriber (bus_store.py), and `podium worker` processes given the same bus deliver them
(server/bus_jobs.py): each subscriber's run for an event happens once across the workers,
resumed from its checkpoint on another worker if its own is killed. Otherwise events wait in
this process's memory until ``drain``, whatever the environment says: a host that sets
``PODIUM_DATABASE_URL`` for its checkpoints still gets the in-process bus it asked for.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podium.errors import ConfigError, InvalidRequest
from podium.patterns.bus_events import BusEvent as BusEvent
from podium.patterns.bus_events import Delivery as Delivery
from podium.patterns.templates import fill

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.guardrails.policy import Policy
    from podium.identity import Principal
    from podium.results import RunResult
    from podium.storage.postgres import PostgresStorage


@dataclass
class Subscription:
    """An agent listening on a topic."""

    name: str
    agent: Agent
    topic: str
    request: str
    publishes: str | None = None
    principal: Principal | None = None


@dataclass
class EventBus:
    """An event bus whose subscribers are agents under one ``policy``.

    ``durable=True`` (in the database of ``PODIUM_DATABASE_URL``) or a ``database_url``
    makes it durable: events are jobs in Postgres that workers deliver. Without either it is
    in-process, ``drain`` delivers its events.
    """

    policy: Policy
    max_events: int = 100
    max_depth: int = 5
    subscriptions: list[Subscription] = field(default_factory=list)
    log: list[Delivery] = field(default_factory=list)
    database_url: str | None = field(default=None, repr=False)  # it may hold a password
    durable: bool = False
    _queue: deque[BusEvent] = field(default_factory=deque)
    _checked: bool = False
    _storage: PostgresStorage | None = None

    def __post_init__(self) -> None:
        if self.durable and not self.database_url:
            self.database_url = _configured_database()
        if self.database_url:
            from podium.storage.postgres import PostgresStorage

            self.durable = True
            self._storage = PostgresStorage(self.database_url)

    @property
    def storage(self) -> PostgresStorage | None:
        """Where a durable bus keeps its events (None: in this process's memory)."""
        return self._storage

    def subscribers(self, topic: str) -> list[Subscription]:
        """The subscriptions to ``topic``, in the order they were made."""
        return [s for s in self.subscriptions if s.topic == topic]

    def subscription(self, name: str) -> Subscription:
        """The subscription named ``name``."""
        for subscription in self.subscriptions:
            if subscription.name == name:
                return subscription
        known = ", ".join(s.name for s in self.subscriptions) or "none"
        raise ConfigError(
            f"no subscriber named {name!r} on this bus (known: {known})",
            "give every process of the bus the same subscriptions",
        )

    def check(self) -> None:
        """Check the policy against every subscriber's tools together (names, scopes)."""
        from podium.tools.registry import ToolRegistry

        every = ToolRegistry()
        for subscription in self.subscriptions:
            for item in subscription.agent.registry:
                every.register(item, replace=True)
        self.policy.check(every)
        self._checked = True

    def subscribe(
        self,
        name: str,
        agent: Agent,
        topic: str,
        request: str,
        publishes: str | None = None,
        principal: str | None = None,
    ) -> None:
        """Wake ``agent`` on ``topic`` with ``request`` filled from the payload.

        Its answer is published on ``publishes`` as ``{"answer": ..., **payload}``. The bus's
        policy replaces the agent's own: one policy governs every agent on the bus.
        """
        if any(s.name == name for s in self.subscriptions):
            raise ConfigError(f"a subscriber named {name!r} exists", "give each its own name")
        agent.policy = self.policy
        self._checked = False
        who = self.policy.principal(principal) if principal else None
        self.subscriptions.append(Subscription(name, agent, topic, request, publishes, who))

    def publish(
        self, topic: str, payload: dict[str, Any] | None = None, key: str | None = None
    ) -> str | None:
        """Queue an event; ``drain`` delivers it (on a durable bus: a worker, once per key).

        On a durable bus the event is kept under ``key`` (default: a new one), returned; a
        second publish under the same key queues nothing.
        """
        event = BusEvent(topic=topic, payload=payload or {})
        if self._storage is None:
            self._queue.append(event)
            return None
        from podium.patterns import bus_store

        if not self.subscriptions:  # the jobs name the subscribers this bus knows of
            raise ConfigError(
                f"this durable bus has no subscriptions, so an event on {topic!r} would be "
                "kept and never delivered",
                "build the publisher's bus with the same subscribe() calls as the workers' "
                "(the --bus function), then publish",
            )
        names = [s.name for s in self.subscribers(topic)]
        return bus_store.publish(self._storage, event, key, names)

    async def apublish(
        self, topic: str, payload: dict[str, Any] | None = None, key: str | None = None
    ) -> str | None:
        """``publish`` for async code: a durable publish's database work runs off the loop."""
        if self._storage is None:
            return self.publish(topic, payload, key)
        return await asyncio.to_thread(self.publish, topic, payload, key)

    def skipped(self, subscription: Subscription, event: BusEvent) -> Delivery | None:
        """The delivery of an event a subscriber is not woken by (a cycle, a long chain)."""
        delivery = Delivery(
            agent=subscription.name, topic=event.topic, chain=event.chain, status="skipped"
        )
        if subscription.name in event.chain:
            delivery.answer = f"cycle: {' -> '.join([*event.chain, subscription.name])}"
            return delivery
        if len(event.chain) >= self.max_depth:
            delivery.answer = f"chain longer than {self.max_depth}"
            return delivery
        return None

    def answered(
        self, subscription: Subscription, event: BusEvent, result: RunResult
    ) -> tuple[Delivery, BusEvent | None]:
        """A run's delivery, and the event its answer publishes (if any)."""
        delivery = Delivery(
            agent=subscription.name,
            topic=event.topic,
            chain=event.chain,
            status="answered" if result.ok else "stopped",
            answer=result.answer,
            trace_id=result.trace_id,
        )
        if not (result.ok and subscription.publishes):
            return delivery, None
        delivery.published = subscription.publishes
        return delivery, BusEvent(
            topic=subscription.publishes,
            payload={**event.payload, "answer": result.answer},
            chain=[*event.chain, subscription.name],
        )

    async def _deliver(self, subscription: Subscription, event: BusEvent) -> Delivery:
        skipped = self.skipped(subscription, event)
        if skipped is not None:
            return skipped
        try:
            request = fill(subscription.request, event.payload, f"topic {event.topic!r}")
            result = await subscription.agent.ainvoke(request, principal=subscription.principal)
        except Exception as error:  # one agent failing stops no other
            return failed(subscription, event, error)
        delivery, follow_up = self.answered(subscription, event, result)
        if follow_up is not None:
            self._queue.append(follow_up)
        return delivery

    async def drain(self) -> list[Delivery]:
        """Deliver queued events (and those they cause) until none are left or the cap."""
        if self._storage is not None:
            raise ConfigError(
                "this bus is durable (its events are in Postgres): `podium worker` processes "
                "deliver its events, not drain()",
                "start workers with this bus (Worker(agent, bus=bus)) and read what they did "
                "with bus.deliveries(); build it without durable=True or database_url= for an "
                "in-process bus",
            )
        if not self._checked:
            self.check()
        handled, deliveries = 0, list[Delivery]()
        while self._queue:
            if handled >= self.max_events:
                dropped = len(self._queue)
                self._queue.clear()
                raise InvalidRequest(
                    f"more than {self.max_events} events in one drain ({dropped} dropped): "
                    "agents keep causing each other's events",
                    "check what each subscriber publishes, or raise max_events",
                )
            event = self._queue.popleft()
            handled += 1
            listeners = self.subscribers(event.topic)
            done = await asyncio.gather(*(self._deliver(s, event) for s in listeners))
            deliveries.extend(done)
            self.log.extend(done)
        return deliveries

    def run(self, topic: str, payload: dict[str, Any] | None = None) -> list[Delivery]:
        """Publish one event and deliver everything it causes (blocking)."""
        self.publish(topic, payload)
        from podium.loop import run_sync

        return run_sync(self.drain())

    def deliveries(self, keys: list[str] | None = None) -> list[Delivery]:
        """What workers delivered on a durable bus (of the events ``keys``, or all)."""
        if self._storage is None:
            return list(self.log)
        from podium.patterns import bus_store

        return bus_store.deliveries(self._storage, keys)


def _configured_database() -> str:
    """The database of ``PODIUM_DATABASE_URL``, which a durable bus without a URL keeps to."""
    from podium.config import Settings

    found = Settings.load().database_url
    if found is None:
        raise ConfigError(
            "EventBus(durable=True) keeps its events in Postgres, and PODIUM_DATABASE_URL "
            "is not set",
            "set PODIUM_DATABASE_URL=postgresql://user:password@host:port/database (podium "
            "worker --database-url sets it), pass database_url=..., or drop durable=True for "
            "an in-process bus",
        )
    return found.get_secret_value()


def failed(subscription: Subscription, event: BusEvent, error: BaseException) -> Delivery:
    """The delivery of an event whose run failed (the error named)."""
    return Delivery(
        agent=subscription.name,
        topic=event.topic,
        chain=event.chain,
        status="failed",
        answer=f"{type(error).__name__}: {error}",
    )
