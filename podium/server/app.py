"""`podium serve`: the agent over HTTP (FastAPI), with the trigger loop inside.

Endpoints (JSON unless said): ``GET /health``; ``POST /invoke`` runs a request to its end;
``POST /stream`` yields the run's events then its result as NDJSON; ``GET /threads/{id}``
and ``GET /threads/{id}/approvals`` show a thread and the calls it waits for; ``POST
/threads/{id}/resume`` decides them (or continues an interrupted run); ``GET /approvals``
lists the calls waiting anywhere that the caller may decide; ``POST /events/{event}`` fires
the event triggers with the JSON body as payload; ``GET /triggers`` shows schedules, events
and the caller's recent firings; ``GET /threads``, ``GET /threads/{id}/runs`` and ``GET
/traces/{trace_id}`` show the caller's history (server/history.py); ``GET /`` is the web page
(server/page.py); ``POST /agui`` speaks AG-UI (server/agui.py); the agent card and ``POST
/a2a`` speak A2A (server/a2a.py); ``GET /openapi.json`` describes it all.

Identity (server/auth.py): with tokens every call needs one, except a bare ``/health``.
Threads live in their principal's namespace (podium.identity). Every error is one JSON
shape, ``{"error": ..., "fix": ...}``, with the status its kind calls for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from podium import known_secrets
from podium.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PodiumError,
    SchemaOutdated,
    StorageBusy,
    StorageDamaged,
    StorageUnavailable,
)
from podium.identity import Principal
from podium.server.agui import agui_routes
from podium.server.auth import (
    BearerOnly,
    Gate,
    Unauthenticated,
    check_exposure,
    read_tokens,
)
from podium.server.events import event_routes
from podium.server.history import history_routes
from podium.server.limits import MAX_BODY_BYTES, BodyLimit
from podium.server.page import SecurityHeaders, page_routes
from podium.server.runs import run_routes
from podium.server.service import Caller, Service, error_body

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.server.triggers import Triggers

__all__ = ["check_exposure", "create_app", "read_tokens"]
log = logging.getLogger(__name__)
STATUS: dict[type[PodiumError], int] = {
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    StorageBusy: 503,
    StorageDamaged: 503,
    StorageUnavailable: 503,
    SchemaOutdated: 503,
}
RETRY_AFTER = "2"


def create_app(
    agent: Agent,
    triggers: Triggers | None = None,
    tokens: dict[str, str] | None = None,
    principal: Principal | None = None,
    max_body: int = MAX_BODY_BYTES,
    reports: Path | None = None,
) -> FastAPI:
    """The HTTP service for ``agent``; the trigger loop runs while the app does.

    ``reports`` is a directory of eval reports (HTML) that the web page lists and shows.
    """
    # A token quoted back (in a request, a tool's output) never reaches a sink in clear.
    known_secrets.add(tokens or {})
    gate = Gate(agent.policy, tokens, principal)
    gate.check()  # a token naming an unknown principal fails at start
    service = Service(agent, gate, triggers)
    queued = _queued(service)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        loop = None
        async with agent.storage.hold():
            if service.feed is not None:
                service.feed.start()
            # With a queue the workers run the schedules (once across all of them).
            if triggers is not None and triggers.schedules and not queued:
                loop = asyncio.create_task(triggers.run_schedules(stop))
            yield
            if service.feed is not None:
                await service.feed.stop()
            stop.set()
            if loop is not None:
                await loop
            if service.tasks:  # runs whose clients left still finish, and are recorded
                await asyncio.gather(*service.tasks, return_exceptions=True)

    # The stock /docs and /redoc pages load scripts from a CDN (no use offline) and cannot
    # carry a bearer token; /openapi.json is served below, behind the token.
    app = FastAPI(
        title="podium", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.service = service
    _errors(app)
    _meta_routes(app, service)
    run_routes(app, service)
    history_routes(app, service)
    event_routes(app, service)
    agui_routes(app, service)
    _a2a(app, service)
    page_routes(app, reports)
    app.add_middleware(BearerOnly, gate=gate, prefix="/a2a")  # the A2A layer is not ours
    app.add_middleware(BodyLimit, max_bytes=max_body)
    app.add_middleware(SecurityHeaders)
    if not tokens:  # open: the machine's own pages only (no other site, no rebound name)
        from podium.server.local_only import LocalOnly

        app.add_middleware(LocalOnly)
    return app


def _queued(service: Service) -> bool:
    """With a Postgres backend, runs go to the job queue; say whether they do."""
    from podium.storage.postgres import PostgresStorage

    storage = service.agent.storage
    if not isinstance(storage, PostgresStorage):
        return False
    from podium.server.feed import RunFeed
    from podium.server.queue import RunQueue

    storage.prepare()
    service.queue = RunQueue(storage)
    service.feed = RunFeed(service.queue)
    return True


def _a2a(app: FastAPI, service: Service) -> None:
    """The A2A card and endpoint, when the a2a-sdk package is installed (podium[a2a])."""
    try:
        from podium.server.a2a import a2a_routes
    except ImportError:
        log.info("no A2A endpoint: the a2a-sdk package is not installed")
        return
    a2a_routes(app, service)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(PodiumError)
    async def podium_error(_: Request, error: PodiumError) -> JSONResponse:
        status = next((s for kind, s in STATUS.items() if isinstance(error, kind)), 400)
        busy = isinstance(error, StorageBusy | StorageUnavailable)
        headers = {"Retry-After": RETRY_AFTER} if busy else None
        if isinstance(error, Unauthenticated):
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse(error_body(error.problem, error.fix), status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        kind = request.headers.get("content-type", "")
        about_body = any(e["loc"][:1] == ("body",) for e in error.errors())
        if about_body and "json" not in kind.lower():
            # curl -d sends a form unless told otherwise: the body is then not read as JSON.
            sent = f"as {kind.split(';')[0]}" if kind else "without a Content-Type header"
            return JSONResponse(
                error_body(
                    f"invalid request: the body was sent {sent}, not as JSON",
                    "send the header Content-Type: application/json "
                    "(curl: -H 'Content-Type: application/json')",
                ),
                415,
            )
        # The input is never echoed back: it may hold NaN or lone surrogates no JSON holds.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
            for e in error.errors()[:5]
        )
        fix = "send a JSON object as the endpoint describes (GET /openapi.json)"
        return JSONResponse(error_body(f"invalid request: {problems}", fix), 422)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        fix = "see GET /openapi.json for the endpoints" if error.status_code in (404, 405) else ""
        return JSONResponse(error_body(str(error.detail), fix), error.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error while serving a request")
        problem = f"internal error: {type(error).__name__}"
        return JSONResponse(error_body(problem, "see the service's log"), 500)


def _meta_routes(app: FastAPI, service: Service) -> None:
    agent = service.agent

    @app.get("/health")
    async def health(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """Whether the service is up; what it runs only for a caller with a token."""
        audit = agent.audit_status()
        ok = audit is None or audit["ok"]
        if not service.gate.authenticated(authorization):
            return {"ok": ok}
        return {
            "ok": ok,
            "model": agent.model_name,
            "tools": agent.registry.names(),
            "audit": audit,
            "runs_in_progress": len(service.tasks),
        }

    @app.get("/openapi.json")
    async def openapi(_: Caller) -> dict[str, Any]:
        return app.openapi()
