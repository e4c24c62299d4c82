"""Who may call what: principals, their scopes, and the decision on each tool call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from podium.tools.registry import Tool


class Principal(BaseModel):
    """The identity a run acts for: who, in which tenant, with which roles and scopes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    tenant: str = Field(default="default", min_length=1)
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()

    @classmethod
    def local(cls) -> Principal:
        """The person at this machine: no scopes, so scoped tools need an explicit grant."""
        return cls(id="local", tenant="default")


@dataclass(frozen=True)
class PolicyDecision:
    """Allow or deny one call, and why (a trace event)."""

    tool: str
    call_id: str
    outcome: Literal["allow", "deny", "approve"]
    reason: str


@dataclass
class Policy:
    """Default deny: a tool that declares scopes runs only for a principal holding them all.

    A tool that needs approval, when allowed, waits for a person's decision.
    """

    def authorize(self, principal: Principal, tool: Tool, call_id: str) -> PolicyDecision:
        """Decide one call."""
        missing = sorted(tool.scopes - principal.scopes)
        if missing and "*" not in principal.scopes:
            return PolicyDecision(
                tool.name, call_id, "deny", f"permission denied: needs scope {', '.join(missing)}"
            )
        if tool.needs_approval:
            return PolicyDecision(
                tool.name, call_id, "approve", f"needs a person's approval ({tool.risk} risk)"
            )
        return PolicyDecision(tool.name, call_id, "allow", "scopes satisfied")
