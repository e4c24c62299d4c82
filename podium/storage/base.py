"""The interfaces of durable state: what a backend must provide, nothing about how."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


class EffectLedger(Protocol):
    """Completed side effects by idempotency key, so that none runs twice.

    A call is recorded when it completes, before the run moves on; on resume, a recorded
    call returns its recorded output instead of running again.
    """

    def get(self, key: str) -> str | None:
        """The recorded output of ``key``, if it completed."""
        ...

    def put(self, key: str, tool: str, output: str) -> None:
        """Record that ``key`` completed with ``output``."""
        ...


class DeskStore(Protocol):
    """A handoff desk's memory: which agent owns each thread, and the person's recent turns."""

    def owner(self, thread_id: str) -> str | None:
        """The agent that holds the thread, or None for a thread nobody took yet."""
        ...

    def set_owner(self, thread_id: str, agent: str) -> None:
        """Give the thread to ``agent``."""
        ...

    def add_turn(self, thread_id: str, said: str, keep: int) -> list[str]:
        """Record what the person said; the last ``keep`` turns of the thread, oldest first."""
        ...


class Storage(Protocol):
    """One backend: thread checkpoints, the side-effect ledger, handoff desks."""

    def checkpointer(self) -> AbstractAsyncContextManager[BaseCheckpointSaver[Any]]:
        """The LangGraph checkpointer of every thread, open for the duration of one call."""
        ...

    def ledger(self) -> EffectLedger:
        """The side-effect ledger."""
        ...

    def desk(self) -> DeskStore:
        """What handoff desks remember."""
        ...
