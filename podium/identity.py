"""Principal: the identity a run acts for, shared by the policy, the tools and the server."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
