"""Principal: the identity a run acts for, shared by the policy, the tools and the server.

A principal's id names its namespace: the threads it starts over HTTP, from events and
from triggers live under ``<id>:<thread>``. Ids therefore never hold the separator (nor
``/``, which separates a sub-agent's thread from its caller's), so that two principals can
never name the same thread: ``team`` + ``lead:x`` and ``team:lead`` + ``x`` cannot meet.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from podium.errors import ConfigError

SEPARATOR = ":"
# Letters, digits and the marks of e-mail addresses and service names; at most 128.
PRINCIPAL_ID = r"^[\w.@+-]{1,128}$"
_VALID = re.compile(PRINCIPAL_ID)
# A thread's name as callers give it: letters, digits, . : / - (sub-agents' threads hold /).
THREAD_ID = r"^[\w.:/-]{1,200}$"
TRACE_ID = r"^[0-9a-f]{1,64}$"  # a run's (and its trace's) id: hex


class Principal(BaseModel):
    """The identity a run acts for: who, in which tenant, with which roles and scopes.

    A principal without a tenant is a tenant of its own: nothing it remembers is shared
    with another principal unless both name the same tenant.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Checked by Python's re (_id), not by pydantic's regex engine: compiling this pattern
    # there takes 0.1 s, on the start path of every command.
    id: str = Field(json_schema_extra={"pattern": PRINCIPAL_ID})
    tenant: str = Field(default="", max_length=128)  # empty: the principal's own id
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _own_tenant(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("tenant"):
            return {**data, "tenant": data.get("id")}
        return data

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _VALID.fullmatch(value):  # fullmatch: "$" alone also passes "bob\n"
            raise ValueError(f"String should match pattern '{PRINCIPAL_ID}'")
        return value

    @classmethod
    def local(cls) -> Principal:
        """The person at this machine: no scopes, so scoped tools need an explicit grant."""
        return cls(id="local", tenant="default")


def valid(text: str, pattern: str) -> bool:
    """Whether ``text`` matches ``pattern`` whole (``$`` alone would let a newline end it)."""
    return re.fullmatch(pattern, text) is not None


def check_principal_id(name: str, where: str) -> None:
    """Refuse an id that could collide with another's namespace (a ConfigError saying where)."""
    if not _VALID.fullmatch(name):
        raise ConfigError(
            f"{where}: principal id {name!r} may hold only letters, digits and . _ @ + - "
            "(at most 128)",
            f"rename it: '{SEPARATOR}' and '/' separate namespaces and threads",
        )


def namespaced(principal_id: str, thread: str) -> str:
    """The thread ``thread`` of ``principal_id``: injective, since ids hold no separator."""
    return f"{principal_id}{SEPARATOR}{thread}"
