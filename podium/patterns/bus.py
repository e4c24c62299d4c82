"""Choreography: agents react to events on an in-process bus; nobody orchestrates them.

An agent subscribes to a topic with a request template (``{field}`` takes the event's
payload) and may publish its answer as a new event. One policy governs every agent on the
bus, and every run acts as its subscription's principal. Events carry the chain of agents
that caused them: an agent is never woken again by an event it caused (a cycle), chains stop
at ``max_depth``, and one ``drain`` handles at most ``max_events`` events.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from podium.errors import ConfigError, InvalidRequest
from podium.patterns.templates import fill

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.guardrails.policy import Policy
    from podium.identity import Principal


class BusEvent(BaseModel):
    """Something that happened: a topic, its payload, and the agents whose work caused it."""

    topic: str
    payload: dict[str, Any]
    chain: list[str] = []


class Delivery(BaseModel):
    """One agent's reaction to one event."""

    agent: str
    topic: str
    chain: list[str]
    status: str  # answered, stopped, failed, skipped
    answer: str = ""
    published: str | None = None
    trace_id: str | None = None


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
    """An in-process event bus whose subscribers are agents under one ``policy``."""

    policy: Policy
    max_events: int = 100
    max_depth: int = 5
    subscriptions: list[Subscription] = field(default_factory=list)
    log: list[Delivery] = field(default_factory=list)
    _queue: deque[BusEvent] = field(default_factory=deque)
    _checked: bool = False

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

    def publish(self, topic: str, payload: dict[str, Any] | None = None) -> None:
        """Queue an event; ``drain`` delivers it."""
        self._queue.append(BusEvent(topic=topic, payload=payload or {}))

    async def _deliver(self, subscription: Subscription, event: BusEvent) -> Delivery:
        delivery = Delivery(
            agent=subscription.name, topic=event.topic, chain=event.chain, status="failed"
        )
        if subscription.name in event.chain:
            delivery.status = "skipped"
            delivery.answer = f"cycle: {' -> '.join([*event.chain, subscription.name])}"
            return delivery
        if len(event.chain) >= self.max_depth:
            delivery.status = "skipped"
            delivery.answer = f"chain longer than {self.max_depth}"
            return delivery
        try:
            request = fill(subscription.request, event.payload, f"topic {event.topic!r}")
            result = await subscription.agent.ainvoke(request, principal=subscription.principal)
        except Exception as error:  # one agent failing stops no other
            delivery.answer = f"{type(error).__name__}: {error}"
            return delivery
        delivery.status = "answered" if result.ok else "stopped"
        delivery.answer, delivery.trace_id = result.answer, result.trace_id
        if result.ok and subscription.publishes:
            self._queue.append(
                BusEvent(
                    topic=subscription.publishes,
                    payload={**event.payload, "answer": result.answer},
                    chain=[*event.chain, subscription.name],
                )
            )
            delivery.published = subscription.publishes
        return delivery

    async def drain(self) -> list[Delivery]:
        """Deliver queued events (and those they cause) until none are left or the cap."""
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
            listeners = [s for s in self.subscriptions if s.topic == event.topic]
            done = await asyncio.gather(*(self._deliver(s, event) for s in listeners))
            deliveries.extend(done)
            self.log.extend(done)
        return deliveries

    def run(self, topic: str, payload: dict[str, Any] | None = None) -> list[Delivery]:
        """Publish one event and deliver everything it causes (blocking)."""
        self.publish(topic, payload)
        from podium.loop import run_sync

        return run_sync(self.drain())
