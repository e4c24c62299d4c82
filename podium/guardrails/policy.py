"""Who may call what: principals, their scopes, and the decision on each tool call.

Without a policy file the rule is the tools' own declarations: a tool that declares scopes
runs only for a principal holding them all (default deny). A policy file (YAML or TOML, see
podium.guardrails.policy_file) adds roles, known principals with budgets, per-tool rules
over the declarations, and per-tenant denials and routes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from podium.errors import ConfigError
from podium.guardrails.policy_file import PolicyFile, read_policy
from podium.identity import Principal as Principal  # re-exported: the policy's own type
from podium.located import Located, suggest
from podium.tools.registry import Tool

if TYPE_CHECKING:
    from podium.config import Limits
    from podium.tools.registry import ToolRegistry


@dataclass(frozen=True)
class PolicyDecision:
    """Allow, deny or send one call for approval, and why (a trace event).

    ``route`` names the tool that runs in this one's place (a tenant's route).
    """

    tool: str
    call_id: str
    outcome: Literal["allow", "deny", "approve"]
    reason: str
    route: str | None = None


@dataclass
class Policy:
    """The rules every call is decided by; ``Policy()`` is the tools' declarations alone."""

    rules: PolicyFile = field(default_factory=PolicyFile)
    source: Located | None = None

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Read a policy file; a ConfigError names the file, the line and the fix."""
        rules, located = read_policy(Path(path))
        return cls(rules, located)

    def _where(self, *key: str | int) -> str:
        return self.source.where(key) if self.source else "policy"

    def principal(self, principal_id: str) -> Principal:
        """The principal of that id as the policy file describes it."""
        entry = self.rules.principals.get(principal_id)
        if entry is None:
            raise ConfigError(
                f"principal {principal_id!r} is not in the policy ({self._where('principals')})",
                f"{suggest(principal_id, set(self.rules.principals))} or add it under principals",
            )
        return Principal(
            id=principal_id,
            tenant=entry.tenant or principal_id,
            roles=frozenset(entry.roles),
            scopes=frozenset(entry.scopes),
        )

    def as_listed(self, principal: Principal) -> Principal:
        """``principal`` as the policy describes it now, when it lists them (else as given).

        A thread records who its run acts for; a run resumed later acts with the grants,
        roles and tenant the policy gives now: a revoked scope stays revoked, a principal
        moved to another tenant no longer reads the old one's memories.
        """
        if self.lists_principals and principal.id in self.rules.principals:
            return self.principal(principal.id)
        return principal

    def scopes_of(self, principal: Principal) -> frozenset[str]:
        """Every scope the principal holds: its own, its entry's, and its roles'."""
        entry = self.rules.principals.get(principal.id)
        roles = set(principal.roles) | set(entry.roles if entry else ())
        scopes = set(principal.scopes) | set(entry.scopes if entry else ())
        for role in roles:
            if role in self.rules.roles:
                scopes |= set(self.rules.roles[role].scopes)
        return frozenset(scopes)

    def argument_sources(self, tool: Tool) -> dict[str, frozenset[str]]:
        """Per argument, the sources it accepts: the tool's, overridden by the policy file's."""
        rule = self.rules.tools.get(tool.name)
        return {
            **tool.sources,
            **{k: frozenset(v) for k, v in ((rule and rule.sources) or {}).items()},
        }

    def provenance_action(self, tool: Tool) -> Literal["approve", "block"]:
        """What a call breaking ``tool``'s argument sources gets: approval (default) or a block."""
        rule = self.rules.tools.get(tool.name)
        return (rule and rule.provenance) or "approve"

    def trusts_output(self, tool: Tool) -> bool:
        """Whether ``tool``'s output is a trusted source (the policy file over the tool)."""
        rule = self.rules.tools.get(tool.name)
        if rule is not None and rule.trusted_output is not None:
            return rule.trusted_output
        return tool.trusted_output

    def authorize(self, principal: Principal, tool: Tool, call_id: str) -> PolicyDecision:
        """Decide one call: unknown principal, tenant, scopes, approval, in that order."""

        def deny(reason: str) -> PolicyDecision:
            return PolicyDecision(tool.name, call_id, "deny", f"permission denied: {reason}")

        if self.lists_principals and principal.id not in self.rules.principals:
            return deny(f"principal {principal.id!r} is unknown to the policy")
        tenant = self.rules.tenants.get(principal.tenant)
        if tenant is not None and tool.name in tenant.deny:
            return deny(f"tool {tool.name!r} is not available to tenant {principal.tenant!r}")
        if tenant is not None and tool.name in tenant.route:
            routed = tenant.route[tool.name]
            reason = f"routed to {routed!r} for tenant {principal.tenant!r}"
            return PolicyDecision(tool.name, call_id, "allow", reason, route=routed)
        rule = self.rules.tools.get(tool.name)
        required = frozenset(rule.scopes) if rule and rule.scopes is not None else tool.scopes
        held = self.scopes_of(principal)
        missing = sorted(required - held)
        if missing and "*" not in held:
            return deny(f"needs scope {', '.join(missing)}")
        approval = rule.needs_approval if rule and rule.needs_approval is not None else None
        risk = (rule.risk if rule else None) or tool.risk
        if approval if approval is not None else tool.needs_approval:
            return PolicyDecision(
                tool.name, call_id, "approve", f"needs a person's approval ({risk} risk)"
            )
        return PolicyDecision(tool.name, call_id, "allow", "scopes satisfied")

    @property
    def lists_principals(self) -> bool:
        """Whether the policy says who may act (a file was loaded): then strangers get nothing.

        ``Policy()`` alone knows no principals: one person runs the agent, so firing events,
        acting as a trigger's principal and deciding approvals are theirs.
        """
        return self.source is not None or bool(self.rules.principals)

    def holds(self, principal: Principal, family: str, name: str) -> bool:
        """Whether ``principal`` holds ``family:name`` (or ``family:*``, or ``*``)."""
        if not self.lists_principals:
            return True
        if principal.id not in self.rules.principals:
            return False
        held = self.scopes_of(principal)
        return bool({f"{family}:{name}", f"{family}:*", "*"} & held)

    def may_fire(self, principal: Principal, event: str) -> bool:
        """Whether ``principal`` may fire ``event`` (scope ``events:<event>``)."""
        return self.holds(principal, "events", event)

    def may_act_as(self, principal: Principal, other: str) -> bool:
        """Whether ``principal`` may start runs that act as ``other`` (scope ``act_as:<id>``)."""
        return principal.id == other or self.holds(principal, "act_as", other)

    def may_approve(self, principal: Principal, tool: str) -> bool:
        """Whether ``principal`` may decide calls of ``tool`` (scope ``approve:<tool>``).

        Asking for a call is not enough to approve it: the requester needs the scope too.
        """
        return self.holds(principal, "approve", tool)

    def limits_for(self, principal: Principal, limits: Limits) -> Limits:
        """``limits`` tightened by the budgets of the principal's roles and its own entry."""
        entry = self.rules.principals.get(principal.id)
        roles = set(principal.roles) | set(entry.roles if entry else ())
        budgets = [self.rules.roles[r].budget for r in roles if r in self.rules.roles]
        budgets.append(entry.budget if entry else None)
        tighter: dict[str, Any] = {}
        for budget in budgets:
            for name, value in (budget.model_dump() if budget else {}).items():
                current = tighter.get(name, getattr(limits, name))
                if value is not None and (current is None or value < current):
                    tighter[name] = value
        return dataclasses.replace(limits, **tighter) if tighter else limits

    def check(self, registry: ToolRegistry) -> None:
        """Check the file against the tools: every scope, tool and role it names must exist."""
        tools = set(registry.names())
        declared = (registry.get(name) for name in tools)
        scopes = {"*"} | {scope for tool in declared if tool for scope in tool.scopes}
        scopes |= {s for rule in self.rules.tools.values() for s in rule.scopes or ()}
        for name in self.rules.tools:
            self._known(name, tools, "tool", "tools", name)
        for tenant, rule in self.rules.tenants.items():
            for index, name in enumerate(rule.deny):
                self._known(name, tools, "tool", "tenants", tenant, "deny", index)
            for name, routed in rule.route.items():
                self._known(name, tools, "tool", "tenants", tenant, "route", name)
                self._known(routed, tools, "tool", "tenants", tenant, "route", name)
        granted = {
            "events": None,  # event names live in the triggers file
            "act_as": {"*", *self.rules.principals},
            "approve": {"*", *tools},
        }
        for role, grant in self.rules.roles.items():
            for index, scope in enumerate(grant.scopes):
                self._known_scope(scope, scopes, granted, "roles", role, "scopes", index)
        for who, entry in self.rules.principals.items():
            for index, scope in enumerate(entry.scopes):
                self._known_scope(scope, scopes, granted, "principals", who, "scopes", index)
            for index, role in enumerate(entry.roles):
                self._known(role, set(self.rules.roles), "role", "principals", who, "roles", index)

    def _known_scope(
        self,
        scope: str,
        scopes: set[str],
        granted: dict[str, set[str] | None],
        *key: str | int,
    ) -> None:
        family, _, name = scope.partition(":")
        if family in granted and name:
            known = granted[family]
            if known is not None:
                self._known(name, known, f"{family} target", *key)
            return
        self._known(scope, scopes, "scope", *key)

    def _known(self, name: str, known: set[str], kind: str, *key: str | int) -> None:
        if name not in known:
            raise ConfigError(
                f"{self._where(*key)}: unknown {kind} {name!r}",
                f"{suggest(name, known - {'*'})}",
            )
