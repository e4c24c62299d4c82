"""Events for whoever watches a run as it happens, and no one else: tokens, and corrections.

They go to a run's live sink only (``Agent.astream(mode="tokens" | "both")``, the server's
stream), never to the audit log or OpenTelemetry: a run's record is its events, not every
fragment of text a model produced on the way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Literal

from podium.tracing.events import Event


class TokenStreamed(Event):
    """A piece of the model's reply, as the model produced it."""

    kind: Literal["token"] = "token"
    step: int
    text: str


class TokensDiscarded(Event):
    """The pieces streamed for ``step`` so far are void; ``replacement`` stands instead.

    Sent when a model call is retried after it streamed some text, and when a guard on the
    answer blocks or redacts what was streamed (then ``replacement`` is the answer as it
    stands). A watcher replaces what it showed; the RunResult always holds the final text.
    """

    kind: Literal["tokens_discarded"] = "tokens_discarded"
    step: int
    reason: str
    replacement: str | None = None


class SubagentEvent(Event):
    """An event of a sub-agent's run, passed up to its caller's watchers, tagged with its name."""

    kind: Literal["subagent"] = "subagent"
    agent: str
    event: dict[str, Any]


# The watcher of the run in progress, so that a sub-agent's run reports to its caller's.
WATCHER: ContextVar[Callable[[Event], None] | None] = ContextVar("podium_watcher", default=None)
LIVE_KINDS = frozenset({"token", "tokens_discarded"})


def tagged(watcher: Callable[[Event], None], agent: str) -> Callable[[Event], None]:
    """A watcher for a sub-agent's run: its events reach ``watcher`` wrapped and named."""

    def watch(event: Event) -> None:
        inner = event.model_dump(mode="json")
        watcher(SubagentEvent(trace_id=event.trace_id, agent=agent, event=inner))

    return watch


def is_live(event: Event) -> bool:
    """Whether ``event`` is text as it is produced (a token, or its withdrawal), at any depth."""
    if isinstance(event, TokenStreamed | TokensDiscarded):
        return True
    return isinstance(event, SubagentEvent) and _inner_live(event.event)


def _inner_live(event: dict[str, Any]) -> bool:
    if event.get("kind") == "subagent":
        return _inner_live(event.get("event") or {})
    return event.get("kind") in LIVE_KINDS


def event_of(data: dict[str, Any]) -> Event | None:
    """The event a watcher was sent, from its JSON (a queued run's feed); None if unknown."""
    made = _kinds().get(data.get("kind"))
    return made.model_validate(data) if made is not None else None


@functools.cache
def _kinds() -> dict[Any, type[Event]]:
    """Each event class by its ``kind``, found once (every event of a feed is read with it)."""
    kinds: dict[Any, type[Event]] = {}
    classes = list(Event.__subclasses__())
    while classes:
        found = classes.pop()
        classes += found.__subclasses__()
        kind = found.model_fields.get("kind")
        if kind is not None:
            kinds[kind.default] = found
    return kinds
