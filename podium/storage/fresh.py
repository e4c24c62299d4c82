"""Checkpointers that skip the read of a thread podium has just named.

A run on a new thread (``Agent.invoke`` without a thread id) names it with a random id, so
no checkpoint of it can exist. LangGraph still asks the store for the thread's latest
checkpoint before the first step: a query to SQLite's thread, or a round trip to Postgres,
that can only find nothing. A thread put in ``new`` is answered "none" at once, until the
first write of it (after which every read queries the store, as before) or until the run
ends. Only that one answer is skipped: what is written, and when, does not change.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from langgraph.checkpoint.base import BaseCheckpointSaver

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import (
        ChannelVersions,
        Checkpoint,
        CheckpointMetadata,
        CheckpointTuple,
    )


class NewThreads:
    """The mixin: threads named new, answered without a query until written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new: set[str] = set()

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """None for a thread named new; otherwise the store's latest (or named) checkpoint."""
        wanted = config.get("configurable", {})
        if (
            wanted.get("thread_id") in self.new
            and not wanted.get("checkpoint_id")
            and not wanted.get("checkpoint_ns")
        ):
            return None
        found: CheckpointTuple | None = await super().aget_tuple(config)  # type: ignore[misc]
        return found

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Write the checkpoint; its thread is no longer new."""
        self.new.discard(config.get("configurable", {}).get("thread_id", ""))
        saved: RunnableConfig = await super().aput(  # type: ignore[misc]
            config, checkpoint, metadata, new_versions
        )
        return saved

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Write a task's pending writes; their thread is no longer new."""
        self.new.discard(config.get("configurable", {}).get("thread_id", ""))
        await super().aput_writes(config, writes, task_id, task_path)  # type: ignore[misc]


Saver = TypeVar("Saver", bound=BaseCheckpointSaver[Any])


@functools.cache
def skipping_new(saver: type[Saver]) -> type[Saver]:
    """``saver`` (LangGraph's SQLite or Postgres checkpointer) skipping the read of new threads."""
    return type(saver.__name__, (NewThreads, saver), {})


@contextmanager
def new_thread(saver: object, thread: str) -> Iterator[None]:
    """While the block runs, ``thread`` is new to ``saver`` (until the first write of it)."""
    if not isinstance(saver, NewThreads):
        yield
        return
    saver.new.add(thread)
    try:
        yield
    finally:
        saver.new.discard(thread)
