"""What is done to a thread apart from running it: end an interrupted run, roll one back, prune.

A queue worker calls the first two when a newer request on the thread interrupts its run
(its progress stays, the run ends as ``interrupted``) or rolls it back (its side effects are
compensated and the thread goes back to the checkpoint before the run). ``prune`` keeps a
thread's newest checkpoints and drops the rest.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from podium.identity import Principal
from podium.planner.compensation import compensate
from podium.runner import session
from podium.tracing.events import Tracer

if TYPE_CHECKING:
    from podium.agent import Agent


async def end_interrupted(agent: Agent, thread: str, run_id: str) -> None:
    """End the thread's run ``run_id`` where it stopped, keeping what it did."""
    storage = agent.storage
    async with session(storage, agent.limits.max_steps, agent.settings.durability) as runs:
        config = runs.config(thread)
        snapshot = await runs.graph.aget_state(config)
        if (snapshot.values or {}).get("run_id") == run_id and snapshot.tasks:
            update: dict[str, Any] = {
                "stop_reason": "interrupted",
                "answer": "Interrupted by a newer request on this thread.",
                "pending": [],
            }
            await runs.graph.aupdate_state(config, update, as_node="finish")
    await asyncio.to_thread(storage.runs().end, thread, run_id, [])


async def roll_back(agent: Agent, thread: str, run_id: str) -> list[str]:
    """Undo the thread's run ``run_id``: compensate its effects, restore the checkpoint before it.

    Returns the side effects that may remain (those without a way to undo them).
    """
    storage = agent.storage
    remaining: list[str] = []
    async with session(storage, agent.limits.max_steps, agent.settings.durability) as runs:
        config = runs.config(thread)
        snapshot = await runs.graph.aget_state(config)
        values = snapshot.values or {}
        if values.get("run_id") == run_id:
            who = Principal.model_validate(values.get("principal") or Principal.local())
            context = agent._context(who, thread, Tracer(uuid.uuid4().hex, agent.sinks))
            remaining = await compensate(context, values.get("outcomes") or [], run_id)
            for _ in range(5):  # a write of the cancelled run may still land: look again
                await _restore_before(runs.graph, config, run_id)
                await asyncio.sleep(0.2)
                head = await runs.graph.aget_state(config)
                if (head.values or {}).get("run_id") != run_id:
                    break
    await asyncio.to_thread(storage.runs().end, thread, run_id, [])
    return remaining


async def _restore_before(graph: Any, config: Any, run_id: str) -> None:
    """Make the newest checkpoint of another run (or none) the thread's head again."""
    from langgraph.checkpoint.base import create_checkpoint

    saver = graph.checkpointer
    thread = config["configurable"]["thread_id"]
    before = None
    async for state in graph.aget_state_history(config):
        other = (state.values or {}).get("run_id") not in (run_id, None)
        if other and not state.next:  # where the run before it ended (never an input)
            before = state
            break
    if before is None:  # the run was the thread's first: nothing was there before it
        await saver.adelete_thread(thread)
        return
    found = await saver.aget_tuple(before.config)
    head = await saver.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
    restored = create_checkpoint(found.checkpoint, None, found.metadata.get("step", 0))
    target = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    if head is not None:
        target["configurable"]["checkpoint_id"] = head.checkpoint["id"]
    metadata = {**found.metadata, "source": "update", "rolled_back": run_id}
    await saver.aput(target, restored, metadata, {})


async def prune(agent: Agent, thread: str, keep: int) -> int:
    """Keep the thread's ``keep`` newest checkpoints (and their writes); the number dropped."""
    from podium.storage.pruning import prune_checkpoints

    dropped: int = await prune_checkpoints(agent.storage, thread, keep)
    return dropped
