"""A thread's housekeeping: what it holds, ending a run that was interrupted, deleting it.

The checkpoints are the truth of a thread (podium/runner.py); the run index knows each
thread's last run. ``podium threads`` and ``podium chat`` use these.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from podium.inputs import thread_given
from podium.runner import CANCELLED, lost, session, thread_view, unfinished

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.results import ThreadView
    from podium.storage.base import IndexedRun



@dataclass(frozen=True)
class Turn:
    """One line of a thread's conversation: the person, the agent, or a call it made."""

    role: Literal["you", "agent", "call"]
    text: str


@dataclass(frozen=True)
class ThreadHistory:
    """A thread as it stands: its last run, its conversation, how many checkpoints it has."""

    view: ThreadView
    last: IndexedRun | None
    turns: list[Turn]
    checkpoints: int


def _turns(messages: list[Any]) -> list[Turn]:
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    from podium.planner.prompts import unspotlight

    outputs = {
        m.tool_call_id: unspotlight(str(m.content)) for m in messages if isinstance(m, ToolMessage)
    }
    turns: list[Turn] = []
    for message in messages:
        if isinstance(message, HumanMessage) and message.name != "guard":
            turns.append(Turn("you", str(message.content)))
        elif isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                shown = ", ".join(
                    f"{k}={json.dumps(v, default=str)}" for k, v in call["args"].items()
                )
                output = outputs.get(call["id"] or "", "(no result)")
                turns.append(Turn("call", f"{call['name']}({shown}) -> {output}"))
        elif isinstance(message, AIMessage) and message.content:
            turns.append(Turn("agent", str(message.content)))
    return turns


async def history(agent: Agent, thread_id: str) -> ThreadHistory:
    """What ``thread_id`` holds: its last run, its conversation and its checkpoints."""
    thread_id = thread_given(thread_id)
    storage = agent.storage
    async with session(storage, agent.limits.max_steps, agent.settings.durability) as runs:
        config = runs.config(thread_id)
        snapshot = await runs.graph.aget_state(config)
        checkpoints = [c async for c in runs.graph.aget_state_history(config)]
    last = await asyncio.to_thread(storage.runs().get, thread_id)
    messages = (snapshot.values or {}).get("messages") or []
    return ThreadHistory(
        thread_view(thread_id, snapshot, last), last, _turns(messages), len(checkpoints)
    )


async def cancel(agent: Agent, thread_id: str) -> bool:
    """End the thread's unfinished run as ``cancelled``, so that it takes new requests.

    For a run stopped mid-way (Ctrl-C in a chat): its side effects were undone when it was
    cancelled; what it did stays in the thread's history. False when no run was unfinished.
    """
    thread_id = thread_given(thread_id)
    storage = agent.storage
    last = await asyncio.to_thread(storage.runs().get, thread_id)
    async with session(storage, agent.limits.max_steps, agent.settings.durability) as runs:
        config = runs.config(thread_id)
        snapshot = await runs.graph.aget_state(config)
        gone = lost(last, snapshot)
        if not unfinished(snapshot) and not gone:
            return False
        if not gone:
            update: dict[str, Any] = {
                "stop_reason": CANCELLED,
                "answer": "The run was cancelled before it finished.",
                "pending": [],
            }
            await runs.graph.aupdate_state(config, update, as_node="finish")
    if last is not None:
        await asyncio.to_thread(storage.runs().end, thread_id, last.run_id, [])
    return True


async def delete(agent: Agent, thread_id: str) -> bool:
    """Delete the thread's checkpoints and its run index entry; whether it existed.

    What its runs left in long-term memory stays (``MemoryStore.forget_where(thread=...)``),
    and so do their records in the audit log, which is never rewritten.
    """
    thread_id = thread_given(thread_id)
    storage = agent.storage
    async with session(storage, agent.limits.max_steps, agent.settings.durability) as runs:
        snapshot = await runs.graph.aget_state(runs.config(thread_id))
        existed = bool(snapshot.values)
        async with storage.checkpointer() as saver:
            await saver.adelete_thread(thread_id)
    indexed = await asyncio.to_thread(storage.runs().delete, thread_id)
    return existed or indexed
