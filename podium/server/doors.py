"""Runs for the doors that translate them for their clients (AG-UI, A2A).

Each gets the run as ``Service.launch`` gives it (events, then the end, then ``DONE``),
from this process, or from the job queue when the service has a database: a worker runs it
then, as every other run of the service, one run of a thread at a time.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from podium.server import queued

if TYPE_CHECKING:
    from podium.identity import Principal
    from podium.planner.approvals import Approval
    from podium.server.service import Service


def start(service: Service, thread: str, request: str, who: Principal) -> asyncio.Queue[Any]:
    """A run of ``request`` on ``thread`` as ``who`` (queued after the thread's runs)."""
    if service.feed is not None:
        return queued.follow(service, queued.submit(service, thread, request, who, "enqueue"))
    agent = service.agent
    return service.launch(
        thread, lambda watcher: agent.ainvoke(request, thread, who, watchers=[watcher])
    )


def resume(
    service: Service, thread: str, decisions: dict[str, bool | Approval], decider: Principal
) -> asyncio.Queue[Any]:
    """The run waiting on ``thread`` resumed with ``decider``'s decisions, as ``start``."""
    if service.feed is not None:
        submitted = queued.submit_resume(service, thread, decisions, None, decider)
        return queued.follow(service, submitted)
    agent = service.agent
    return service.launch(
        thread,
        lambda watcher: agent.aresume(thread, decisions, decider=decider, watchers=[watcher]),
    )
