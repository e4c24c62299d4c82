"""`podium serve`: the agent over HTTP (FastAPI), with the trigger loop inside.

Endpoints (JSON unless said): ``GET /health``; ``POST /invoke`` runs a request to its end;
``POST /stream`` yields the run's events then its result as NDJSON; ``GET
/threads/{id}/approvals`` lists the calls a thread waits for; ``POST /threads/{id}/resume``
decides them (or continues an interrupted run); ``POST /events/{event}`` fires the event
triggers with the JSON body as payload; ``GET /triggers`` shows schedules, events and recent
firings.

Identity: with tokens configured, every call but /health needs ``Authorization: Bearer
TOKEN`` and acts as the principal that token names; without tokens the service acts as one
principal and refuses to listen beyond loopback. Runs of one thread are serialized.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from podium import known_secrets
from podium.errors import ConfigError, PodiumError
from podium.identity import Principal
from podium.planner.approvals import Approval

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.results import RunResult
    from podium.server.triggers import Triggers

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class InvokeBody(BaseModel):
    """A request to run."""

    request: str = Field(min_length=1)
    thread_id: str | None = Field(None, pattern=r"^[\w.:/-]{1,200}$")
    events: bool = Field(False, description="Include the run's events in the answer.")


class ResumeBody(BaseModel):
    """Decisions on the calls a thread waits for (call id -> approve or not, with a reason)."""

    decisions: dict[str, bool | Approval] | None = None


def read_tokens(path: Path) -> dict[str, str]:
    """Bearer tokens from a file of ``TOKEN PRINCIPAL`` lines (# comments allowed)."""
    if not path.is_file():
        raise ConfigError(f"tokens file {path} does not exist", "check the path")
    tokens: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2 or len(words[0]) < 16:
            raise ConfigError(
                f"{path}, line {number}: expected 'TOKEN PRINCIPAL' with a token of 16+ characters",
                "write one token and one principal name per line",
            )
        tokens[words[0]] = words[1]
    if not tokens:
        raise ConfigError(f"tokens file {path} lists no tokens", "add 'TOKEN PRINCIPAL' lines")
    return tokens


def check_exposure(host: str, tokens: dict[str, str] | None) -> None:
    """Refuse to listen beyond loopback without tokens: anyone could act as the agent."""
    if host not in LOOPBACK and not tokens:
        raise ConfigError(
            f"serving on {host} without tokens lets anyone on the network run the agent",
            "pass --tokens FILE (lines of 'TOKEN PRINCIPAL'), or listen on 127.0.0.1",
        )


@dataclass
class Service:
    """What the routes share: the agent, its triggers, who may call, per-thread locks."""

    agent: Agent
    triggers: Triggers | None = None
    tokens: dict[str, str] | None = None
    principal: Principal | None = None
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A token quoted back (in a request, a tool's output) never reaches a sink in clear.
        known_secrets.add(self.tokens or {})

    def caller(self, authorization: str | None) -> Principal:
        """The principal a request acts as: its token's, or the service's own."""
        if not self.tokens:
            return self.principal or Principal.local()
        scheme, _, token = (authorization or "").partition(" ")
        name = next((n for t, n in self.tokens.items() if secrets.compare_digest(t, token)), None)
        if scheme.lower() != "bearer" or name is None:
            raise HTTPException(
                401,
                {
                    "error": "missing or unknown bearer token",
                    "fix": "send Authorization: Bearer TOKEN",
                },
            )
        return self.agent.policy.principal(name)

    def lock(self, thread: str) -> asyncio.Lock:
        """One run at a time per thread."""
        return self.locks.setdefault(thread, asyncio.Lock())

    def owned(self, thread: str, who: Principal) -> str:
        """With tokens, threads are namespaced by principal: nobody reaches another's."""
        return f"{who.id}:{thread}" if self.tokens else thread


def _caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    service: Service = request.app.state.service
    return service.caller(authorization)


# Route parameters of this type get the calling principal (FastAPI resolves the annotation
# by name, so it lives at module level).
Caller = Annotated[Principal, Depends(_caller)]


def create_app(
    agent: Agent,
    triggers: Triggers | None = None,
    tokens: dict[str, str] | None = None,
    principal: Principal | None = None,
) -> FastAPI:
    """The HTTP service for ``agent``; the trigger loop runs while the app does."""
    for name in (tokens or {}).values():
        agent.policy.principal(name)  # a token naming an unknown principal fails at start
    service = Service(agent, triggers, tokens, principal)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        loop = None
        if triggers is not None and triggers.schedules:
            loop = asyncio.create_task(triggers.run_schedules(stop))
        yield
        stop.set()
        if loop is not None:
            await loop

    app = FastAPI(title="podium", lifespan=lifespan)
    app.state.service = service

    @app.exception_handler(PodiumError)
    async def podium_error(_: Request, error: PodiumError) -> JSONResponse:
        return JSONResponse({"error": error.problem, "fix": error.fix}, status_code=400)

    _run_routes(app, service)
    _approval_routes(app, service)
    _trigger_routes(app, service)
    return app


def _answer(result: RunResult, thread: str, events: bool = False) -> dict[str, Any]:
    """A RunResult as JSON, with the thread id as the caller named it."""
    answer = result.model_dump(mode="json", exclude=None if events else {"events"})
    return {**answer, "thread_id": thread}


def _run_routes(app: FastAPI, service: Service) -> None:
    agent = service.agent

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "model": agent.model_name, "tools": agent.registry.names()}

    @app.post("/invoke")
    async def invoke(body: InvokeBody, who: Caller) -> dict[str, Any]:
        named = body.thread_id or uuid.uuid4().hex
        thread = service.owned(named, who)
        async with service.lock(thread):
            result = await agent.ainvoke(body.request, thread_id=thread, principal=who)
        return _answer(result, named, body.events)

    @app.post("/stream")
    async def stream(body: InvokeBody, who: Caller) -> StreamingResponse:
        from podium.results import RunResult

        named = body.thread_id or uuid.uuid4().hex
        thread = service.owned(named, who)

        async def lines() -> AsyncIterator[str]:
            async with service.lock(thread):
                async for item in agent.astream(body.request, thread, who):
                    if isinstance(item, RunResult):
                        yield json.dumps({"result": _answer(item, named)}) + "\n"
                    else:
                        yield json.dumps({"event": item.model_dump(mode="json")}) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")


def _approval_routes(app: FastAPI, service: Service) -> None:
    agent = service.agent

    @app.get("/threads/{thread_id}/approvals")
    async def approvals(thread_id: str, who: Caller) -> list[dict[str, Any]]:
        waiting = await agent.awaiting(service.owned(thread_id, who))
        return [request.model_dump(mode="json") for request in waiting]

    @app.post("/threads/{thread_id}/resume")
    async def resume(
        thread_id: str, who: Caller, body: Annotated[ResumeBody | None, Body()] = None
    ) -> dict[str, Any]:
        thread = service.owned(thread_id, who)
        decisions = body.decisions if body else None
        if decisions is not None:  # each decision records who made it
            decisions = {
                call: (d if isinstance(d, Approval) else Approval(approved=d)).model_copy(
                    update={"by": who.id}
                )
                for call, d in decisions.items()
            }
        async with service.lock(thread):
            result = await agent.aresume(thread, decisions, principal=who)
        return _answer(result, thread_id)


def _trigger_routes(app: FastAPI, service: Service) -> None:
    @app.post("/events/{event}")
    async def event(
        event: str, who: Caller, payload: Annotated[dict[str, Any] | None, Body()] = None
    ) -> list[dict[str, Any]]:
        if service.triggers is None:
            raise HTTPException(404, {"error": "no triggers configured", "fix": "pass --triggers"})
        fired = await service.triggers.fire(event, payload or {}, sender=who)
        return [f.model_dump(mode="json") for f in fired]

    @app.get("/triggers")
    async def listing(who: Caller) -> dict[str, Any]:
        triggers = service.triggers
        if triggers is None:
            return {"schedules": [], "events": [], "history": []}
        upcoming = triggers.next_runs()
        return {
            "schedules": [
                {"name": s.name, "cron": s.cron, "next": upcoming[s.name]}
                for s in triggers.schedules
            ],
            "events": sorted({r.event for r in triggers.events}),
            "history": [f.model_dump(mode="json") for f in triggers.history],
        }
