"""What the routes share: the service (agent, gate, triggers, runs in progress), the caller."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Request

from podium.identity import Principal
from podium.server.auth import Gate

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.server.triggers import Triggers


@dataclass
class Service:
    """What the routes share: the agent, its triggers, the gate, the runs in progress."""

    agent: Agent
    gate: Gate
    triggers: Triggers | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def keep(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """Hold a background run until it ends (a client leaving does not stop it)."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


def _caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    service: Service = request.app.state.service
    return service.gate.caller(authorization)


# Route parameters of this type get the calling principal (FastAPI resolves the annotation
# by name, so it lives at module level).
Caller = Annotated[Principal, Depends(_caller)]


def error_body(problem: str, fix: str) -> dict[str, str]:
    """The one shape of every error the service sends."""
    return {"error": problem, "fix": fix}


