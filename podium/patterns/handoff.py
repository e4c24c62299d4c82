"""Handoff: one agent passes the conversation to another, which keeps it from then on.

Each agent of a ``Handoffs`` desk gets a ``transfer_to_<name>`` tool for every agent it may
hand to. When it calls one, the desk records the new owner of the thread and runs the target
on a filtered brief: the reason, and the person's own words (never the first agent's tool
outputs or reasoning, which may carry data the target should not see or text that tries to
steer it). Later requests on the thread go straight to the owner. A handoff to an agent the
desk does not know is refused with the names it knows; a chain that returns to an agent it
already passed through within one request is a cycle, stopped where it is; and no request
hands off more than ``max_handoffs`` times.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from podium.errors import ConfigError, InvalidRequest
from podium.results import RunResult
from podium.storage.sqlite import SqliteStorage
from podium.tools.registry import Tool, make_tool

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.identity import Principal
    from podium.storage.base import DeskStore

MAX_HANDOFFS = 3
KEPT_TURNS = 5
HANDOFF_TAG = "handoff"
_asked: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar(
    "podium_handoff", default=None
)


class Transfer(BaseModel):
    """One handoff that happened."""

    source: str
    target: str
    reason: str


class HandoffResult(BaseModel):
    """The answer of the agent that owns the thread at the end, and the handoffs on the way."""

    answer: str
    agent: str
    thread_id: str
    transfers: list[Transfer]
    results: list[RunResult]
    warnings: list[str] = []

    @property
    def ok(self) -> bool:
        """Whether the last agent answered."""
        return bool(self.results) and self.results[-1].ok


Brief = Callable[[str, str, list[str]], str]


def brief(source: str, reason: str, turns: list[str]) -> str:
    """The default filtered context: who handed over and why, then the person's own words."""
    said = "\n".join(f"- {turn}" for turn in turns)
    return f"(handed over by {source}: {reason})\nThe person said:\n{said}\n\n{turns[-1]}"


def transfer_tool(target: str, description: str) -> Tool:
    """The tool an agent calls to hand the conversation to ``target``."""

    async def transfer(reason: str) -> str:  # async: it must see the desk's context
        asked = _asked.get()
        if asked is None:
            raise InvalidRequest(
                f"transfer_to_{target} only works inside a Handoffs desk",
                "run the agent through Handoffs.invoke",
            )
        asked.append((target, reason))
        return f"The conversation is handed to {target}; they will answer the person."

    transfer.__doc__ = (
        f"Hand the conversation to {target}: {description}\n\nArgs:\n"
        f"    reason: Why {target} should take over.\n"
    )
    return make_tool(
        transfer,
        name=f"transfer_to_{target}",
        description=f"Hand over to {target}: {description}",
        tags=[HANDOFF_TAG],
    )


class Handoffs:
    """Agents that pass conversations to each other; the desk remembers who owns each thread.

    ``routes`` says who may hand to whom (default: everyone to everyone else).
    ``descriptions`` tell a handing agent what each target does. Owners and turns are kept
    in ``store`` (default: SQLite under ``home``, or the first agent's home).
    """

    def __init__(
        self,
        agents: dict[str, Agent],
        start: str,
        descriptions: dict[str, str],
        routes: dict[str, Sequence[str]] | None = None,
        home: Path | None = None,
        store: DeskStore | None = None,
        context: Brief = brief,
        max_handoffs: int = MAX_HANDOFFS,
    ) -> None:
        known = set(agents)
        if start not in known:
            raise ConfigError(f"start agent {start!r} is not one of the agents", _names(known))
        routes = dict(routes) if routes is not None else {a: sorted(known - {a}) for a in agents}
        for source, targets in routes.items():
            for name in [source, *targets]:
                if name not in known:
                    raise ConfigError(
                        f"route {source} -> {name}: unknown agent {name!r}", _names(known)
                    )
            for target in targets:
                if target not in descriptions:
                    raise ConfigError(
                        f"no description for {target!r}", "say what it does in descriptions"
                    )
                agents[source].registry.register(
                    transfer_tool(target, descriptions[target]), replace=True
                )
        self.agents, self.start, self.routes = agents, start, routes
        self.context, self.max_handoffs = context, max_handoffs
        first = next(iter(agents.values()))
        if store is None:  # the first agent's backend (Postgres when it has a database URL)
            store = SqliteStorage(Path(home)).desk() if home else first.storage.desk()
        self._store = store

    def owner(self, thread_id: str) -> str:
        """The agent that holds the thread (the start agent for a new one)."""
        return self._store.owner(thread_id) or self.start

    def transfer(self, thread_id: str, target: str) -> None:
        """Give the thread to ``target`` (a person reassigning it)."""
        if target not in self.agents:
            raise InvalidRequest(f"no agent named {target!r}", _names(set(self.agents)))
        self._store.set_owner(thread_id, target)

    async def ainvoke(
        self, request: str, thread_id: str | None = None, principal: Principal | None = None
    ) -> HandoffResult:
        """Run ``request`` with the thread's owner, following handoffs to the end."""
        thread = thread_id or uuid.uuid4().hex
        turns = self._store.add_turn(thread, request, KEPT_TURNS)
        current, text = self.owner(thread), request
        visited, transfers = [current], list[Transfer]()
        results, warnings = list[RunResult](), list[str]()
        while True:
            asked: list[tuple[str, str]] = []
            token = _asked.set(asked)
            try:
                result = await self.agents[current].ainvoke(
                    text, thread_id=f"{thread}/{current}", principal=principal
                )
            finally:
                _asked.reset(token)
            results.append(result)
            if not asked:
                break
            target, reason = asked[0]
            if target in visited:
                warnings.append(
                    f"{current} handed back to {target} within one request ("
                    f"{' -> '.join([*visited, target])}): a cycle, stopped at {current}"
                )
                break
            if len(transfers) >= self.max_handoffs:
                warnings.append(f"more than {self.max_handoffs} handoffs in one request; stopped")
                break
            transfers.append(Transfer(source=current, target=target, reason=reason))
            self.transfer(thread, target)
            text = self.context(current, reason, turns)
            current = target
            visited.append(current)
        return HandoffResult(
            answer=results[-1].answer,
            agent=current,
            thread_id=thread,
            transfers=transfers,
            results=results,
            warnings=warnings,
        )

    def invoke(
        self, request: str, thread_id: str | None = None, principal: Principal | None = None
    ) -> HandoffResult:
        """Run ``request`` with the thread's owner (blocking); see ``ainvoke``."""
        from podium.loop import run_sync

        return run_sync(self.ainvoke(request, thread_id, principal))


def _names(known: set[str]) -> str:
    return f"the agents are: {', '.join(sorted(known))}"
