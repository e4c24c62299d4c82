"""What the caller's threads did: the threads, each thread's runs, a run's trace as a tree.

The threads come from the run index (each thread's last run), the runs and their traces
from the audit log, as ``podium trace`` reads it: only records that pass verification.
A caller sees its own namespace only; anything else answers 404, as what does not exist.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from podium.errors import NotFound
from podium.identity import THREAD_ID, TRACE_ID, namespaced, valid
from podium.server.service import Caller, Service

if TYPE_CHECKING:
    from podium.tracing.views import Run


# The runs last read from each audit directory, with the state of its files then: a page
# asks often, and the whole log is verified on each read.
_READ: dict[Path, tuple[tuple[int, ...], list[Run]]] = {}


async def audit_runs(service: Service) -> list[Run]:
    """Every run the audit log holds, oldest first (none when the log is off or empty)."""
    settings = service.agent.settings
    directory = settings.home_dir / "audit"
    if not settings.audit:
        return []
    key = settings.audit_key.get_secret_value() if settings.audit_key else None
    return await asyncio.to_thread(_read, directory, key)


def _read(directory: Path, key: str | None) -> list[Run]:
    """The log's runs, read again only when the log or its head changed since."""
    from podium.tracing.records import HEAD_NAME, LOG_NAME
    from podium.tracing.views import load_runs

    stamp: list[int] = []
    for name in (LOG_NAME, HEAD_NAME):
        try:
            found = (directory / name).stat()
        except FileNotFoundError:
            stamp += [-1, -1, -1]
        else:
            stamp += [found.st_size, found.st_mtime_ns, found.st_ino]
    if stamp[0] < 0:
        return []
    cached = _READ.get(directory)
    if cached is not None and cached[0] == tuple(stamp):
        return cached[1]
    runs = load_runs(directory, key)
    _READ[directory] = (tuple(stamp), runs)
    return runs


def history_routes(app: FastAPI, service: Service) -> None:
    """``GET /threads``, ``GET /threads/{id}/runs`` and ``GET /traces/{trace_id}``."""
    from podium.tracing.views import run_data, runs_of_thread, summary

    agent = service.agent

    @app.get("/threads")
    async def threads(who: Caller) -> list[dict[str, Any]]:
        """The caller's threads, the newest first, each with its last run's state."""
        prefix = namespaced(who.id, "")
        found = await asyncio.to_thread(agent.storage.runs().threads, prefix)
        return [
            {
                "thread_id": run.thread_id[len(prefix) :],
                "state": run.state,
                "request": run.request,
                "since": run.since,
                "waiting": [call for call, _ in run.calls],
            }
            for run in found
        ]

    @app.get("/threads/{thread_id}/runs")
    async def runs(thread_id: str, who: Caller) -> list[dict[str, Any]]:
        """The thread's runs (requests and resumptions) from the audit log, oldest first."""
        key = namespaced(who.id, thread_id)
        if not valid(thread_id, THREAD_ID) or not (await agent.athread(key)).exists:
            raise NotFound(f"no thread {thread_id!r} of yours", "check the thread id")
        return [summary(run) for run in runs_of_thread(await audit_runs(service), key)]

    @app.get("/traces/{trace_id}")
    async def trace(trace_id: str, who: Caller) -> dict[str, Any]:
        """One run of the caller's threads as a tree: nodes, timings, tokens, cost."""
        unknown = NotFound(
            f"no trace {trace_id!r} of yours",
            "take the trace_id of a run of your own threads (a result names it)",
        )
        if not valid(trace_id, TRACE_ID):
            raise unknown
        run = next((r for r in await audit_runs(service) if r.trace_id == trace_id), None)
        started = run.started if run else None
        if run is None or started is None or not started.thread_id.startswith(f"{who.id}:"):
            raise unknown
        return run_data(run)
