"""Reading a policy file (YAML or TOML) into validated data, with errors that name the line."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from podium.errors import ConfigError
from podium.identity import check_principal_id
from podium.located import Lines, Located, read_yaml

Risk = Literal["low", "medium", "high"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Budget(_Strict):
    """Run budgets for a role or a principal; the tightest that applies wins."""

    max_steps: int | None = Field(default=None, gt=0)
    max_seconds: float | None = Field(default=None, gt=0)
    max_tool_calls: int | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    max_cost_usd: float | None = Field(default=None, gt=0)


class Role(_Strict):
    """What holding a role grants."""

    scopes: list[str] = []
    budget: Budget | None = None


class PrincipalEntry(_Strict):
    """A principal the policy knows: its tenant, roles, extra scopes and budget.

    Without a tenant, a principal is a tenant of its own: principals share memory only
    when the file names the same tenant for them.
    """

    tenant: str | None = Field(default=None, min_length=1)
    roles: list[str] = []
    scopes: list[str] = []
    budget: Budget | None = None


class ToolRule(_Strict):
    """What the policy says of one tool, over what the tool declares."""

    scopes: list[str] | None = None
    needs_approval: bool | None = None
    risk: Risk | None = None
    # Per argument, the sources its values may come from (podium.guardrails.provenance).
    sources: (
        dict[str, list[Literal["user", "trusted_tool", "untrusted_tool", "memory", "subagent"]]]
        | None
    ) = None
    trusted_output: bool | None = None
    # What a call gets when an argument's value comes from no source it accepts: a person's
    # approval (the default) or a refusal the planner reads.
    provenance: Literal["approve", "block"] | None = None


class TenantRule(_Strict):
    """Tools a tenant may not use, and tools it uses in another's place."""

    deny: list[str] = []
    route: dict[str, str] = {}


class PolicyFile(_Strict):
    """The whole file."""

    roles: dict[str, Role] = {}
    principals: dict[str, PrincipalEntry] = {}
    tools: dict[str, ToolRule] = {}
    tenants: dict[str, TenantRule] = {}


def _parse(path: Path) -> tuple[Any, Lines, str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text), {}, text
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(
                f"{path}: not valid TOML: {error}", "fix the syntax at that line"
            ) from None
    data, lines = read_yaml(path, text)
    return data, lines, text


def read_policy(path: Path) -> tuple[PolicyFile, Located]:
    """The validated policy in ``path``; a ConfigError names the line of the first problem."""
    if not path.is_file():
        raise ConfigError(f"policy file {path} does not exist", "check the path")
    data, lines, text = _parse(path)
    located = Located(path, lines, text)
    try:
        rules = PolicyFile.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        key = tuple(first["loc"])
        field = ".".join(str(part) for part in key)
        if first["type"] == "extra_forbidden":
            known = _known_fields(key)
            hint = difflib.get_close_matches(str(key[-1]), known, n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else f"known keys: {', '.join(known)}"
            problem = f"unknown key {str(key[-1])!r}"
        else:
            problem, fix = f"{field}: {first['msg']}", "correct the value"
        raise ConfigError(f"{located.where(key)}: {problem}", fix) from None
    if not rules.principals:
        raise ConfigError(
            f"{located.where(('principals',))}: the policy lists no principals, so every "
            "principal is unknown to it",
            "list who may act under 'principals:' (a principal the file does not list is "
            "denied every tool)",
        )
    for name in rules.principals:
        check_principal_id(name, located.where(("principals", name)))
    _no_shared_tenant_by_name(rules, located)
    return rules, located


def _no_shared_tenant_by_name(rules: PolicyFile, located: Located) -> None:
    """Refuse a principal whose own tenant (its id) is spelt like a tenant others name.

    A principal without ``tenant`` is a tenant of its own, called by its id; were another
    principal's tenant (or the local user's, ``default``) spelt the same, the two would
    share memories and tenant budgets though neither entry says so.
    """
    named = {"default": "the local user (podium run without --as)"}
    named.update(
        {entry.tenant: repr(who) for who, entry in rules.principals.items() if entry.tenant}
    )
    for name, entry in rules.principals.items():
        if not entry.tenant and name in named:
            raise ConfigError(
                f"{located.where(('principals', name))}: principal {name!r} has no tenant, "
                f"so it is a tenant of its own called {name!r}, and tenant {name!r} is also "
                f"{named[name]}'s: they would share memories and budgets",
                f"give {name} 'tenant: {name}' to share them on purpose, or rename one",
            )


def _known_fields(key: tuple[str | int, ...]) -> list[str]:
    """The keys allowed where ``key`` was found."""
    model: type[BaseModel] = PolicyFile
    nested: dict[str, type[BaseModel]] = {
        "roles": Role,
        "principals": PrincipalEntry,
        "tools": ToolRule,
        "tenants": TenantRule,
    }
    if len(key) >= 3 and key[0] in nested:
        model = nested[str(key[0])]
        if len(key) >= 4 and key[2] == "budget":
            model = Budget
    return list(model.model_fields)
