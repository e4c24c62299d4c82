"""What travels on the event bus: an event, and one agent's reaction to it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


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
    event: str | None = None  # the event's key, on a durable bus
