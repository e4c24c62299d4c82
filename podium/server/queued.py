"""The run routes when `podium serve` has a database: runs go to the job queue.

``POST /invoke`` and ``POST /stream`` queue the run (double-texting as the body's
``multitask_strategy`` says) and follow it through the feed, whichever worker carries it
out; ``POST /threads/{id}/resume`` queues the decisions. A client that disconnects does not
release the thread or stop the run: ``GET /runs/{run_id}/stream?after=SEQ`` attaches again
and ``GET /runs/{run_id}`` gives the result once it is there.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from podium.errors import Conflict, NotFound, PodiumError
from podium.identity import TRACE_ID, valid
from podium.server.queue import RunJob, Strategy, new_run_id
from podium.server.service import Caller, Service, error_body

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from podium.identity import Principal
    from podium.planner.approvals import Approval
    from podium.server.feed import RunFeed
    from podium.server.queue import RunQueue


def _parts(service: Service) -> tuple[RunQueue, RunFeed]:
    assert service.queue is not None and service.feed is not None
    return service.queue, service.feed


async def submit(
    service: Service, thread: str, request: str, who: Principal, strategy: Strategy
) -> str:
    """Queue a run of ``request`` on ``thread``; its run id."""
    from podium.inputs import request_text, thread_given

    queue, _ = _parts(service)
    # As Agent.invoke checks them, before the database sees them (a NUL is no 500).
    request, thread = request_text(request), thread_given(thread)
    job = RunJob(
        run_id=new_run_id(), thread=thread, request=request, principal=who.model_dump_json()
    )
    await asyncio.to_thread(queue.submit, job, strategy)
    return job.run_id


async def submit_resume(
    service: Service,
    thread: str,
    decisions: dict[str, bool | Approval] | None,
    owner: Principal | None,
    decider: Principal,
) -> str:
    """Queue the decisions on a thread's waiting calls (or the continuation of its run)."""
    from podium.inputs import check_reasons, thread_given

    queue, _ = _parts(service)
    thread = thread_given(thread)
    check_reasons(decisions or {})
    job = RunJob(
        run_id=new_run_id(),
        thread=thread,
        kind="resume",
        principal=owner.model_dump_json() if owner else None,
        decisions={
            k: v if isinstance(v, bool) else v.model_dump(mode="json")
            for k, v in (decisions or {}).items()
        },
        decider=decider.model_dump_json(),
    )
    await asyncio.to_thread(queue.submit, job, "enqueue")
    return job.run_id


def follow(service: Service, submitted: Coroutine[Any, Any, str]) -> asyncio.Queue[Any]:
    """A queued run as ``Service.launch`` gives a local one: its events, its end, ``DONE``.

    The doors that translate a run for their clients (AG-UI, A2A) take it from here when the
    service has a database, so that a worker runs it as it runs every other.
    """
    from podium.results import RunResult
    from podium.server.service import DONE
    from podium.tracing.live import event_of

    _, feed = _parts(service)
    items: asyncio.Queue[Any] = asyncio.Queue()

    async def produce() -> None:
        try:
            run_id = await submitted
            async for seq, item in feed.follow(run_id):
                if seq != -1:
                    if (event := event_of(item)) is not None:
                        items.put_nowait(event)
                elif "result" in item:
                    # A recorded result keeps no events: they came one by one above.
                    items.put_nowait(RunResult.model_validate({"events": [], **item["result"]}))
                else:
                    items.put_nowait(
                        PodiumError(str(item.get("error")), str(item.get("fix") or ""))
                    )
        except PodiumError as error:
            items.put_nowait(error)
        except Exception as error:  # the client is told, whatever broke: never a stream cut
            log.exception("following a queued run failed")
            problem = f"the run could not be queued or followed: {type(error).__name__}"
            items.put_nowait(PodiumError(problem, "try again; if it persists, see the log"))
        finally:
            items.put_nowait(DONE)

    service.keep(asyncio.create_task(produce()))
    return items


def outcome(result: dict[str, Any], named: str) -> dict[str, Any]:
    """A recorded result as the answer of /invoke; a recorded error raised as what it was."""
    if "result" in result:
        return {**result["result"], "events": [], "thread_id": named}
    if result.get("stop_reason") in ("interrupted", "rolled_back"):
        raise Conflict(str(result["error"]), "see the thread for the run that came after it")
    raise PodiumError(str(result.get("error")), str(result.get("fix") or ""))


async def lines(feed: RunFeed, run_id: str, named: str, after: int = 0) -> AsyncIterator[str]:
    """The run as NDJSON: its id, each event with its seq, then its result (or error)."""
    if after == 0:
        yield json.dumps({"run": {"run_id": run_id, "thread_id": named}}) + "\n"
    async for seq, item in feed.follow(run_id, after):
        if seq != -1:
            yield json.dumps({"event": item, "seq": seq}) + "\n"
        elif "result" in item:
            yield json.dumps({"result": {**item["result"], "thread_id": named}}) + "\n"
        else:
            yield json.dumps(error_body(str(item.get("error")), str(item.get("fix") or ""))) + "\n"


def queued_routes(app: FastAPI, service: Service) -> None:
    """``GET /runs/{run_id}`` and ``GET /runs/{run_id}/stream``: a queued run, again."""

    async def owned(run_id: str, who: Principal) -> str:
        if not valid(run_id, TRACE_ID):  # hex: nothing else reaches the database
            raise NotFound(f"no run {run_id[:80]!r} of yours", "check the run id")
        queue, _ = _parts(service)
        thread = await asyncio.to_thread(queue.thread_of, run_id)
        prefix = f"{who.id}:"
        if thread is None or not thread.startswith(prefix):
            raise NotFound(f"no run {run_id!r} of yours", "check the run id")
        return thread.removeprefix(prefix)

    @app.get("/runs/{run_id}")
    async def run(run_id: str, who: Caller) -> dict[str, Any]:
        """The run's result, or ``{"status": "pending"}`` while it is queued or running."""
        named = await owned(run_id, who)
        queue, _ = _parts(service)
        result = await asyncio.to_thread(queue.result, run_id)
        if result is None:
            return {"run_id": run_id, "thread_id": named, "status": "pending"}
        return {"run_id": run_id, "status": "ended", **outcome(result, named)}

    @app.get("/runs/{run_id}/stream")
    async def attach(
        run_id: str, who: Caller, after: Annotated[int, Query(ge=0)] = 0
    ) -> StreamingResponse:
        """The run's events after ``after`` (a seq it sent), live, then its result."""
        named = await owned(run_id, who)
        _, feed = _parts(service)
        return StreamingResponse(
            lines(feed, run_id, named, after), media_type="application/x-ndjson"
        )
