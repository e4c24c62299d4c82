"""The run routes: invoke, stream, threads, approvals and resume, one run per thread at a time.

A caller reaches its own threads only (``<principal>:<thread>``); another principal's
thread is reached only to decide the calls it waits on, by a caller the policy lets decide
them, and its run then goes on as its owner, never as the decider. A thread that is not
the caller's to see answers 404, as one that does not exist.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Body, FastAPI, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, StrictBool

from podium.errors import Conflict, InvalidRequest, NotFound, PodiumError
from podium.identity import PRINCIPAL_ID, THREAD_ID, Principal, namespaced, valid
from podium.inputs import check_reasons
from podium.planner.approvals import Approval
from podium.server.queue import Strategy
from podium.server.service import DONE, Caller, Service, error_body

if TYPE_CHECKING:
    from podium.results import RunResult, ThreadView


class InvokeBody(BaseModel):
    """A request to run."""

    request: str = Field(min_length=1)
    thread_id: str | None = Field(None, pattern=THREAD_ID)
    events: bool = Field(False, description="Include the run's events in the answer.")
    multitask_strategy: Strategy = Field(
        "enqueue",
        description="When the thread is busy: reject (409), enqueue after its runs, "
        "interrupt them (keeping what they did) or rollback (undoing it); the last two need "
        "a database (the job queue).",
    )


class ResumeBody(BaseModel):
    """Decisions on the calls a thread waits for (call id -> approve or not, with a reason)."""

    decisions: dict[str, StrictBool | Approval] | None = None  # ("yes" is no decision)
    owner: str | None = Field(
        None, pattern=PRINCIPAL_ID, description="Whose thread (default: the caller's own)."
    )


def _answer(result: RunResult, thread: str, events: bool = False) -> dict[str, Any]:
    """A RunResult as JSON, with the thread id as the caller named it."""
    answer = result.model_dump(mode="json", exclude=None if events else {"events"})
    return {**answer, "thread_id": thread}


def run_routes(app: FastAPI, service: Service) -> None:
    """The routes that start, show and continue runs."""
    agent, locks = service.agent, service.locks
    approval_routes(app, service)
    if service.queue is not None:
        from podium.server.queued import queued_routes

        queued_routes(app, service)

    @app.post("/invoke")
    async def invoke(body: InvokeBody, who: Caller) -> dict[str, Any]:
        named = body.thread_id or uuid.uuid4().hex
        thread = namespaced(who.id, named)
        if service.feed is not None:
            from podium.server import queued

            run_id = await queued.submit(
                service, thread, body.request, who, body.multitask_strategy
            )
            return queued.outcome(await service.feed.result(run_id), named)
        _inline(service, thread, body.multitask_strategy)
        async with locks(thread):
            result = await agent.ainvoke(body.request, thread_id=thread, principal=who)
        return _answer(result, named, body.events)

    @app.post("/stream")
    async def stream(body: InvokeBody, who: Caller) -> StreamingResponse:
        named = body.thread_id or uuid.uuid4().hex
        thread = namespaced(who.id, named)
        if service.feed is not None:
            from podium.server import queued

            run_id = await queued.submit(
                service, thread, body.request, who, body.multitask_strategy
            )
            return StreamingResponse(
                queued.lines(service.feed, run_id, named), media_type="application/x-ndjson"
            )
        _inline(service, thread, body.multitask_strategy)
        view = await agent.athread(thread)
        if view.unfinished:
            waiting = "waits for approval" if view.waiting else "did not finish"
            raise InvalidRequest(
                f"the last run of thread {named} {waiting}",
                "continue it with POST /threads/{id}/resume, or start a new thread",
            )
        items = service.launch(
            thread,
            lambda watcher: agent.ainvoke(body.request, thread, who, watchers=[watcher]),
        )
        return StreamingResponse(_lines(items, named), media_type="application/x-ndjson")


def approval_routes(app: FastAPI, service: Service) -> None:
    """The routes that show threads and the calls they wait on, and decide them."""
    agent, locks = service.agent, service.locks

    @app.get("/threads/{thread_id}")
    async def thread(
        thread_id: str, who: Caller, owner: Annotated[str | None, Query()] = None
    ) -> dict[str, Any]:
        view = await _visible(service, thread_id, who, owner)
        return {**view.model_dump(mode="json"), "thread_id": thread_id}

    @app.get("/threads/{thread_id}/approvals")
    async def approvals(
        thread_id: str, who: Caller, owner: Annotated[str | None, Query()] = None
    ) -> list[dict[str, Any]]:
        view = await _visible(service, thread_id, who, owner)
        return [request.model_dump(mode="json") for request in view.waiting]

    @app.get("/approvals")
    async def decidable(who: Caller) -> list[dict[str, Any]]:
        """Every call waiting anywhere that the caller may decide, oldest first."""
        waiting = await asyncio.to_thread(agent.storage.runs().in_state, "waiting")
        found = []
        for run in waiting:
            calls = [c for c, tool in run.calls if agent.policy.may_approve(who, tool)]
            if not calls:
                continue
            owner, _, named = run.thread_id.partition(":")
            view = await agent.athread(run.thread_id)
            for request in view.waiting:
                if request.call_id in calls:
                    found.append(
                        {"owner": owner, "thread_id": named, **request.model_dump(mode="json")}
                    )
        return found

    @app.post("/threads/{thread_id}/resume")
    async def resume(
        thread_id: str, who: Caller, body: Annotated[ResumeBody | None, Body()] = None
    ) -> dict[str, Any]:
        body = body or ResumeBody()
        check_reasons(body.decisions or {})  # a NUL is refused by name, not a 500
        owner = body.owner or who.id
        if not valid(owner, PRINCIPAL_ID):
            raise NotFound(*_unknown(thread_id))
        key = namespaced(owner, thread_id)
        async with locks(key):  # a run in progress is waited for, then looked at
            if body.decisions:
                await _not_decided_yet(service, thread_id, who, owner, set(body.decisions))
            await _visible(service, thread_id, who, owner)
            if owner != who.id and body.decisions is None:
                raise NotFound(*_unknown(thread_id))  # only decisions reach another's thread
            # The owner acts as the policy describes them now (Agent.aresume): revoked
            # scopes stay revoked, whoever decides.
            if service.feed is not None:
                from podium.server import queued

                run_id = await queued.submit_resume(service, key, body.decisions, None, who)
                done = queued.outcome(await service.feed.result(run_id), thread_id)
            else:
                result = await agent.aresume(key, body.decisions, decider=who)
                done = _answer(result, thread_id)
        if owner != who.id:  # a decider learns what became of the decision, not the run
            return _receipt(done, owner, body.decisions or {})
        return done


def _inline(service: Service, thread: str, strategy: Strategy) -> None:
    """Double-texting without a queue: reject a busy thread, or wait for it (enqueue)."""
    if strategy == "reject" and service.locks(thread).locked():
        raise Conflict(
            f"thread {thread.partition(':')[2]} is busy: a run of it is going on",
            "wait for it to end, or send multitask_strategy enqueue",
        )
    if strategy in ("interrupt", "rollback"):
        raise InvalidRequest(
            f"multitask_strategy {strategy} needs the job queue, and this service has no database",
            "start podium serve with --database-url (and workers), or send reject or enqueue",
        )


async def _lines(items: asyncio.Queue[Any], named: str) -> AsyncIterator[str]:
    from podium.results import RunResult

    while (item := await items.get()) is not DONE:
        if isinstance(item, RunResult):
            yield json.dumps({"result": _answer(item, named)}) + "\n"
        elif isinstance(item, PodiumError):
            yield json.dumps(error_body(item.problem, item.fix)) + "\n"
        else:
            yield json.dumps({"event": item.model_dump(mode="json")}) + "\n"


def _unknown(thread_id: str) -> tuple[str, str]:
    return f"no thread {thread_id!r} of yours", "check the thread id (and owner)"


async def _visible(
    service: Service, thread_id: str, who: Principal, owner: str | None
) -> ThreadView:
    """The thread, if the caller may see it: their own, or one waiting on calls they decide.

    Another's thread shows only the waiting calls the caller may decide (a call another
    decider is asked about, and its arguments, are not theirs to see), and not its request.
    """
    owner = owner or who.id
    if not valid(thread_id, THREAD_ID) or not valid(owner, PRINCIPAL_ID):
        raise NotFound(*_unknown(thread_id))
    view = await service.agent.athread(namespaced(owner, thread_id))
    if not view.exists:
        raise NotFound(*_unknown(thread_id))
    if owner == who.id:
        return view
    policy = service.agent.policy
    theirs = [request for request in view.waiting if policy.may_approve(who, request.tool)]
    if not theirs:
        raise NotFound(*_unknown(thread_id))
    return view.model_copy(update={"waiting": theirs, "decided": [], "request": None})


async def _not_decided_yet(
    service: Service, thread_id: str, who: Principal, owner: str, calls: set[str]
) -> None:
    """Raise Conflict (409) when the calls were decided already, naming who decided them.

    A thread that waits no more, or whose waiting calls no longer hold some of ``calls``
    (another decider's decision came first). Another principal's thread says so only to a
    caller who may decide one of those calls (the one who could see them waiting); to
    anyone else it stays a thread not theirs (404).
    """
    from podium.server.history import audit_runs
    from podium.tracing.views import decisions_on, last_decisions

    if not valid(thread_id, THREAD_ID):
        return
    key = namespaced(owner, thread_id)
    view = await service.agent.athread(key)
    gone = calls - {request.call_id for request in view.waiting}  # (all, if none waits)
    if not view.exists or not gone or (not view.waiting and view.unfinished):
        return
    runs = await audit_runs(service)
    # the decisions on those calls (several runs' when deciders took turns)
    decided = decisions_on(runs, key, gone)
    if view.waiting and not decided:
        return  # calls it never waited on: the resume names them (400)
    if not view.waiting:
        decided = decided or last_decisions(runs, key)
    policy = service.agent.policy
    if owner != who.id and not any(policy.may_approve(who, d.tool) for d in decided):
        return
    if decided:
        made = ", ".join(
            f"{d.tool} [{d.call_id}] {'approved' if d.approved else 'rejected'}"
            + (f" by {d.by}" if d.by else "")
            for d in decided
        )
        waits = "waits for no decision" if not view.waiting else "waits no more on those calls"
        problem = f"thread {thread_id} {waits}: already decided ({made})"
    else:
        problem = f"thread {thread_id} waits for no decision: its last run ended"
    raise Conflict(problem, "reload the thread to see its result; nothing was changed")


def _receipt(
    done: dict[str, Any], owner: str, decisions: dict[str, bool | Approval]
) -> dict[str, Any]:
    """What a decider of another's calls is told: their decisions, and where the run stands.

    Not the run's answer nor its calls' outputs: those are the owner's, and the decider may
    hold no scope for the tools that made them.
    """
    return {
        "thread_id": done["thread_id"],
        "owner": owner,
        "decided": {
            call: d if isinstance(d, bool) else d.approved for call, d in decisions.items()
        },
        "stop_reason": done["stop_reason"],
    }
