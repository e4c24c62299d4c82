"""The interfaces of durable state: what a backend must provide, nothing about how."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from podium.errors import PodiumError

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


RunState = Literal["running", "waiting", "done"]


@dataclass(frozen=True)
class IndexedRun:
    """The last run of a thread as the run index knows it."""

    thread_id: str
    run_id: str
    owner: str  # the principal it acts for
    request: str
    principal: str  # the Principal as JSON, to start the run again if its input was lost
    state: RunState
    calls: tuple[tuple[str, str], ...]  # (call id, tool) it waits on
    since: float

    @classmethod
    def from_row(cls, row: tuple[Any, ...], calls: Iterable[Iterable[Any]]) -> IndexedRun:
        """The run of a (thread, run, owner, request, principal, state, calls, since) row.

        ``calls`` is the row's calls as its backend decoded them (SQLite keeps JSON text).
        """
        thread, run, owner, request, principal, state, _, since = row
        return cls(
            thread_id=thread,
            run_id=run,
            owner=owner,
            request=request,
            principal=principal,
            state=state,
            calls=tuple((str(c), str(t)) for c, t in calls),
            since=since,
        )


class RunIndex(Protocol):
    """Each thread's last run: begun, waiting for approvals, or done.

    The checkpoints remain the truth of what a run did; the index is written before a run
    starts, so that a run killed before its request reached the checkpoints is still found
    (and started again), and so that a decider can find the calls waiting across threads.
    """

    def begin(self, run: IndexedRun) -> None:
        """Record that ``run`` starts (or resumes) now."""
        ...

    def end(self, thread_id: str, run_id: str, waiting: list[tuple[str, str]]) -> None:
        """Record that the run stopped: waiting on these calls, or done when there are none."""
        ...

    def get(self, thread_id: str) -> IndexedRun | None:
        """The thread's last run, if it had one."""
        ...

    def in_state(self, state: RunState) -> list[IndexedRun]:
        """Every thread whose last run is in ``state``, oldest first."""
        ...

    def threads(self, namespace: str, limit: int = 200) -> list[IndexedRun]:
        """The last runs of the threads whose id starts with ``namespace``, newest first."""
        ...

    def delete(self, thread_id: str) -> bool:
        """Forget the thread's last run; whether the index had it."""
        ...


class Storage(Protocol):
    """One backend: thread checkpoints, the side-effect ledger, handoff desks, approvals."""

    def checkpointer(self) -> AbstractAsyncContextManager[BaseCheckpointSaver[Any]]:
        """The LangGraph checkpointer of every thread, open for the duration of one call."""
        ...

    def hold(self) -> AbstractAsyncContextManager[None]:
        """Keep one connection open for this event loop until the block ends (a server)."""
        ...

    def failure(self, error: BaseException) -> PodiumError | None:
        """The typed error for a failure of this backend (busy, damaged), or None if not one."""
        ...

    def runs(self) -> RunIndex:
        """The index of each thread's last run."""
        ...

    def ledger(self) -> EffectLedger:
        """The side-effect ledger."""
        ...

    def desk(self) -> DeskStore:
        """What handoff desks remember."""
        ...
