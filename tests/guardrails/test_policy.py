"""Policy files, identity and the decision on every call."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.agent import Agent
from podium.cli.main import app
from podium.config import Limits
from podium.errors import ConfigError
from podium.guardrails.policy import Policy
from podium.identity import Principal
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import Tool, tool

ran: list[str] = []


@tool(scopes=["orders:read"])
def lookup_order(order_id: str) -> str:
    """Look up an order."""
    ran.append("lookup_order")
    return f"order {order_id}: shipped"


@tool(scopes=["refunds:write"], risk="high")
def refund(order_id: str, amount: float) -> str:
    """Refund an order."""
    ran.append("refund")
    return f"refunded {amount}"


@tool(scopes=["orders:read"])
def lookup_order_eu(order_id: str) -> str:
    """Look up an order in the EU region."""
    ran.append("lookup_order_eu")
    return f"order {order_id} (eu): shipped"


@tool
def calculator(expression: str) -> str:
    """Evaluate arithmetic."""
    ran.append("calculator")
    return "4"


TOOLS = [lookup_order, refund, lookup_order_eu, calculator]

POLICY_YAML = """\
roles:
  agent:
    scopes: [orders:read]
    budget: {max_tool_calls: 5}
  supervisor:
    scopes: [orders:read, refunds:write]
principals:
  ana: {tenant: acme, roles: [agent]}
  sam: {tenant: acme, roles: [supervisor], budget: {max_steps: 4}}
  eve: {tenant: globex, roles: [supervisor]}
  max: {tenant: eu-shop, roles: [agent]}
tools:
  refund: {needs_approval: true}
tenants:
  globex: {deny: [refund]}
  eu-shop:
    route: {lookup_order: lookup_order_eu}
"""

POLICY_TOML = """\
[roles.agent]
scopes = ["orders:read"]

[principals.ana]
tenant = "acme"
roles = ["agent"]
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_YAML)
    return path


def run_as(policy: Policy | Path, who: str, *tool_calls: dict[str, object]) -> list[str]:
    ran.clear()
    model = ScriptedChatModel(turns=[calls(*tool_calls), "done"])
    agent = Agent(TOOLS, model=model, policy=policy, guards=None)
    principal = agent.policy.principal(who)
    result = agent.invoke("go", principal=principal)
    return [str(c["output"]) for c in result.tool_calls]


def test_roles_grant_scopes_and_a_missing_scope_is_denied(policy_file: Path) -> None:
    outputs = run_as(
        policy_file,
        "ana",
        call("lookup_order", "c1", order_id="7"),
        call("refund", "c2", order_id="7", amount=5.0),
    )
    assert ran == ["lookup_order"]
    assert outputs == ["order 7: shipped", "permission denied: needs scope refunds:write"]


def test_tenants_deny_and_route_tools(policy_file: Path) -> None:
    outputs = run_as(policy_file, "eve", call("refund", order_id="7", amount=1.0))
    assert outputs == ["permission denied: tool 'refund' is not available to tenant 'globex'"]
    outputs = run_as(policy_file, "max", call("lookup_order", order_id="9"))
    assert ran == ["lookup_order_eu"] and outputs == ["order 9 (eu): shipped"]


def test_the_file_marks_tools_that_need_approval(policy_file: Path) -> None:
    model = ScriptedChatModel(turns=[calls(call("refund", order_id="7", amount=5.0)), "ok"])
    agent = Agent(TOOLS, model=model, policy=policy_file, guards=None)
    result = agent.invoke("refund 7", principal=agent.policy.principal("sam"))
    assert result.stop_reason == "awaiting_approval"
    assert result.pending_approvals[0].reason == "needs a person's approval (high risk)"


def test_a_principal_unknown_to_the_policy_is_denied_everything(policy_file: Path) -> None:
    ran.clear()
    model = ScriptedChatModel(turns=[calls(call("calculator", expression="2+2")), "done"])
    agent = Agent(TOOLS, model=model, policy=policy_file, guards=None)
    result = agent.invoke("2+2", principal=Principal(id="mallory", scopes=frozenset({"*"})))
    assert ran == []
    assert result.tool_calls[0]["output"] == (
        "permission denied: principal 'mallory' is unknown to the policy"
    )
    with pytest.raises(ConfigError, match="principal 'anna' is not in the policy") as error:
        agent.policy.principal("anna")
    assert "did you mean 'ana'?" in str(error.value)


def test_budgets_per_principal_take_the_tightest(policy_file: Path) -> None:
    policy = Policy.load(policy_file)
    base = Limits(max_steps=12, max_tool_calls=None)
    assert policy.limits_for(policy.principal("ana"), base).max_tool_calls == 5
    sam = policy.limits_for(policy.principal("sam"), base)
    assert (sam.max_steps, sam.max_tool_calls) == (4, None)


def test_toml_policies_load_too(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY_TOML)
    assert run_as(Policy.load(path), "ana", call("lookup_order", order_id="1")) == [
        "order 1: shipped"
    ]


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        (
            POLICY_YAML.replace("    budget: {max_tool_calls: 5}", "    budgett: {}"),
            ".yaml",
            r"line 4: unknown key 'budgett' \(fix: did you mean 'budget'\?\)",
        ),
        (
            POLICY_YAML.replace("scopes: [orders:read]", "scopes: [order:read]"),
            ".yaml",
            r"line 3: unknown scope 'order:read' \(fix: did you mean 'orders:read'\?\)",
        ),
        (
            POLICY_YAML.replace("eu-shop, roles: [agent]", "eu-shop, roles: [agnet]"),
            ".yaml",
            r"line 11: unknown role 'agnet'",
        ),
        (
            POLICY_YAML.replace("deny: [refund]", "deny: [refnud]"),
            ".yaml",
            r"line 15: unknown tool 'refnud' \(fix: did you mean 'refund'\?\)",
        ),
        (
            POLICY_YAML.replace("{max_steps: 4}", "{max_steps: -1}"),
            ".yaml",
            r"line 9: principals.sam.budget.max_steps: Input should be greater than 0",
        ),
        ("roles: [unclosed", ".yaml", r"line 1: not valid YAML"),
        (
            POLICY_YAML.replace("roles:\n  agent:", "roles:\n  agent:\n    scopes: [x]", 1),
            ".yaml",
            r"line 4: key 'scopes' is given twice \(first on line 3\)",
        ),
        (
            POLICY_YAML + "principals:\n  eve: {scopes: ['*']}\n",
            ".yaml",
            r"key 'principals' is given twice",
        ),
        ("roles:\n  agent: {scopes: [orders:read]}\n", ".yaml", r"lists no principals"),
        (
            POLICY_YAML.replace("principals:\n", "principals:\n  team:lead: {}\n", 1),
            ".yaml",
            r"principal id 'team:lead' may hold only",
        ),
        (
            POLICY_TOML.replace('tenant = "acme"', 'tennant = "acme"'),
            ".toml",
            r"line 5: unknown key 'tennant' \(fix: did you mean 'tenant'\?\)",
        ),
        ('[roles.agent\nscopes = ["x"]', ".toml", r"not valid TOML"),
        (  # acme would be a tenant of its own spelt like ann's: they would share memories
            "principals:\n  ann: {tenant: acme}\n  acme: {}\n",
            ".yaml",
            r"line 3: principal 'acme' has no tenant, .* tenant 'acme' is also 'ann''s",
        ),
        (
            "principals:\n  default: {scopes: [x]}\n",
            ".yaml",
            r"line 2: .* tenant 'default' is also the local user",
        ),
    ],
)
def test_a_bad_policy_file_names_the_line_and_the_fix(
    tmp_path: Path, text: str, suffix: str, message: str
) -> None:
    path = tmp_path / f"policy{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Agent(TOOLS, model=ScriptedChatModel(turns=[]), policy=path)


def test_cli_runs_as_a_principal_of_the_policy(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "principals:\n  ana: {tenant: acme}\ntenants:\n  acme: {deny: [calculator]}\n"
    )
    runner = CliRunner()
    env = {"PODIUM_HOME": str(tmp_path / "home"), "PODIUM_POLICY": str(policy)}
    unknown = runner.invoke(app, ["run", "--no-memory", "--as", "anna", "what is 2+2"], env=env)
    assert unknown.exit_code != 0
    assert "principal 'anna' is not in the policy" in unknown.output
    assert "did you mean 'ana'?" in unknown.output and "Traceback" not in unknown.output
    known = runner.invoke(app, ["run", "--no-memory", "--as", "ana", "-v", "what is 2+2"], env=env)
    shown = " ".join(known.output.split())  # the terminal wraps long lines
    assert "tool 'calculator' is not available to tenant 'acme'" in shown


EXECUTED = ("ok", "error", "timeout")  # statuses of calls whose function was invoked


def permission_matrix(
    policy_path: Path, tools: list[Tool], arguments: dict[str, dict[str, object]]
) -> list[tuple[str, str]]:
    """Run every (role, tool) pair; return the pairs where a call ran without its scopes.

    Each role acts alone (no principal entries or tenant rules); approvals are declined, so
    a tool that needs one must never run.
    """
    policy = Policy.load(policy_path)
    matrix = Policy(policy.rules.model_copy(update={"principals": {}, "tenants": {}}))
    unauthorized = []
    for role, item in itertools.product(policy.rules.roles, tools):
        granted = set(policy.rules.roles[role].scopes)
        rule = policy.rules.tools.get(item.name)
        required = set(rule.scopes) if rule and rule.scopes is not None else set(item.scopes)
        needs_approval = (
            rule.needs_approval
            if rule and rule.needs_approval is not None
            else (item.needs_approval)
        )
        model = ScriptedChatModel(turns=[calls(call(item.name, **arguments[item.name])), "done"])
        agent = Agent(tools, model=model, policy=matrix, guards=None)
        result = agent.invoke("go", principal=Principal(id=f"as-{role}", roles=frozenset({role})))
        while result.stop_reason == "awaiting_approval":
            declined = {p.call_id: False for p in result.pending_approvals}
            result = agent.resume(result.thread_id, declined)  # type: ignore[arg-type]
        executed = result.tool_calls[0]["status"] in EXECUTED
        if executed and not required <= granted:
            unauthorized.append((role, item.name))
        assert executed == (required <= granted and not needs_approval), (role, item.name)
    return unauthorized


def test_permission_matrix_no_unauthorized_execution(policy_file: Path) -> None:
    """Every (role, tool) pair: the tool runs exactly when the role's scopes allow it."""
    arguments: dict[str, dict[str, object]] = {
        "lookup_order": {"order_id": "1"},
        "lookup_order_eu": {"order_id": "1"},
        "refund": {"order_id": "1", "amount": 1.0},
        "calculator": {"expression": "1"},
    }
    assert permission_matrix(policy_file, TOOLS, arguments) == []


def test_permission_matrix_of_the_deployment_example(tmp_path: Path) -> None:
    from examples.deploy.workflow import POLICY, SAMPLE_APP, workflow_tools

    tools = workflow_tools(SAMPLE_APP, tmp_path / "target")
    arguments: dict[str, dict[str, object]] = {
        "run_checks": {"check": "lint"},
        "deploy_staging": {"version": "1.0.0"},
        "deploy_production": {"version": "1.0.0"},
        "health_check": {"environment": "staging"},
        "rollback": {"environment": "staging"},
    }
    assert permission_matrix(POLICY, tools, arguments) == []


def test_permission_matrix_of_the_support_example(tmp_path: Path) -> None:
    from examples.support import store
    from examples.support.workflow import POLICY, support_tools

    tools = support_tools(store.seed(tmp_path / "shop.db"))
    arguments: dict[str, dict[str, object]] = {
        "classify_request": {"text": "where is order 1001"},
        "lookup_order": {"order_id": 1001},
        "lookup_customer": {"customer_id": "C-17"},
        "refund": {"order_id": 1001, "amount": 1.0},
        "draft_reply": {"intent": "other", "facts": "none"},
    }
    assert permission_matrix(POLICY, tools, arguments) == []
