"""The trigger routes: fire an event, list the schedules and the caller's firings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, FastAPI

from podium.errors import NotFound
from podium.server.service import Caller, Service
from podium.server.triggers import iso, shown


def event_routes(app: FastAPI, service: Service) -> None:
    """``POST /events/{event}`` and ``GET /triggers``."""

    @app.post("/events/{event}")
    async def event(
        event: str, who: Caller, payload: Annotated[dict[str, Any] | None, Body()] = None
    ) -> list[dict[str, Any]]:
        """Fire ``event``; the caller needs ``events:<event>`` (and ``act_as:<p>``, see fire)."""
        if service.triggers is None:
            raise NotFound("no triggers configured", "start the service with --triggers FILE")
        if service.queue is not None:  # each run a job: a crash of this process loses none
            fired = await service.triggers.fire_queued(event, payload or {}, service.queue, who)
        else:
            fired = await service.triggers.fire(event, payload or {}, sender=who)
        return [shown(f) for f in fired]

    @app.get("/triggers")
    async def listing(who: Caller) -> dict[str, Any]:
        """Schedules, event names, and the firings the caller started or ran as."""
        triggers = service.triggers
        if triggers is None:
            return {"schedules": [], "events": [], "history": []}
        upcoming = triggers.next_runs()
        return {
            "schedules": [
                {"name": s.name, "cron": s.cron, "next": iso(upcoming[s.name])}
                for s in triggers.schedules
            ],
            "events": sorted({r.event for r in triggers.events}),
            "history": [shown(f) for f in triggers.history_of(who.id)],
        }
