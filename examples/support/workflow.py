"""The customer-support workflow.

A request is classified (intent, urgency); personal data in it is redacted before the
planner or any tool sees it; the order is looked up in the tenant's own rows; long-term
memory brings back the tenant's earlier tickets; a reply is drafted; a refund above the
threshold waits for a person's approval. Two tenants share the deployment and never see each
other's orders or memories.

    python -m examples.support.workflow --as ana "Refund 60 EUR on order 1001, it arrived broken"
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from examples.support import store
from examples.terminal import bad_input, run_at_terminal
from podium.agent import Agent
from podium.errors import PodiumError
from podium.guardrails.base import (
    FailResult,
    PassResult,
    ValidationResult,
    Validator,
    register_validator,
)
from podium.guardrails.policy import Policy
from podium.guardrails.screens import Check, Screens, ToolChecks
from podium.guardrails.validators import PII
from podium.memory.store import MemoryStore
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import Tool, ToolContext, tool

HERE = Path(__file__).resolve().parent
POLICY = HERE / "policy.yaml"
REFUND_APPROVAL_ABOVE = 100.0
INTENTS = {
    "refund": ("refund", "money back", "reimburse", "broken", "damaged"),
    "order_status": ("where is", "status", "tracking", "arrive", "shipped"),
    "complaint": ("unhappy", "terrible", "complain", "rude"),
}
URGENT = ("urgent", "asap", "immediately", "today", "angry")


def classify(text: str) -> tuple[str, str]:
    """(intent, urgency) of a request, by the words it uses."""
    lowered = text.lower()
    intent = next((k for k, words in INTENTS.items() if any(w in lowered for w in words)), "other")
    return intent, "high" if any(w in lowered for w in URGENT) else "normal"


@register_validator(name="examples/refund_above", data_type="string")
class RefundAbove(Validator):  # type: ignore[misc]
    """Fails a refund call whose amount is above ``limit`` (escalated: a person decides)."""

    def __init__(self, limit: float, **kwargs: Any) -> None:
        super().__init__(limit=limit, **kwargs)
        self.limit = limit

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        amount = float(metadata.get("arguments", {}).get("amount", 0))
        if amount > self.limit:
            return FailResult(error_message=f"refund of {amount:g} is above {self.limit:g}")
        return PassResult()


def support_tools(database: Path) -> list[Tool]:
    """The workflow's tools over the shop database at ``database``."""

    @tool
    def classify_request(text: str) -> str:
        """Classify a support request: its intent and urgency."""
        intent, urgency = classify(text)
        return f"intent={intent} urgency={urgency}"

    def order(context: ToolContext, order_id: int) -> tuple[str, float, str]:
        found = store.order(database, context.principal.tenant, order_id)
        if found is None:
            raise LookupError(f"there is no order {order_id} in this account")
        return found

    @tool(scopes=["orders:read"])
    def lookup_order(order_id: int, context: ToolContext) -> str:
        """Look up one of the customer's orders by its number."""
        customer, total, status = order(context, order_id)
        return f"order {order_id}: {total:.2f} EUR, {status}, customer {customer}"

    @tool(scopes=["refunds"], side_effects=True, risk="high")
    def refund(order_id: int, amount: float, context: ToolContext) -> str:
        """Refund part or all of an order."""
        left = store.add_refund(database, context.principal.tenant, order_id, amount)
        return f"refunded {amount:.2f} EUR on order {order_id} ({left:.2f} EUR left to refund)"

    @tool(scopes=["orders:read"])
    def lookup_customer(customer_id: str, context: ToolContext) -> str:
        """Look up a customer of this account by id (like C-17)."""
        found = store.customer(database, context.principal.tenant, customer_id)
        if found is None:
            raise LookupError(f"there is no customer {customer_id} in this account")
        return f"customer {customer_id}: {found[1]} order(s) on file"

    @tool
    def draft_reply(intent: str, facts: str) -> str:
        """Draft the reply to the customer from what was found."""
        opening = {
            "refund": "We are sorry about your order.",
            "order_status": "Thanks for checking in.",
            "complaint": "We are sorry to hear that.",
        }.get(intent, "Thanks for writing to us.")
        return f"{opening} {facts} Kind regards, Support"

    return [classify_request, lookup_order, lookup_customer, refund, draft_reply]


_ORDER = re.compile(r"\b(?:order\s*(?:no\.?|number|#)?\s*)(\d{3,})", re.IGNORECASE)
_CUSTOMER = re.compile(r"\bC-\d+\b")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:EUR|euros?|€)", re.IGNORECASE)


_TOOL_FAILED = re.compile(r"^error: tool '[^']*' failed: (?:\w+: )?")


def customer_reason(message: str) -> str:
    """Why a tool call failed, as the customer may read it (no tool or exception names)."""
    if message.startswith("not approved"):
        return "it was not approved"
    return _TOOL_FAILED.sub("", message).strip().rstrip(".")


def _facts(
    results: dict[str, str],
    ok: set[str | None],
    order: re.Match[str] | None,
    customer: re.Match[str] | None,
    amount: re.Match[str] | None,
) -> str:
    """What the reply tells the customer: what was found and done, what failed and why."""
    if order and "lookup_order" not in ok:
        return f"We could not find order {order.group(1)} in your account."
    if customer and not order and "lookup_customer" not in ok:
        return f"We could not find customer {customer.group()} in your account."
    facts = [
        f"{results[name]}." for name in ("lookup_order", "lookup_customer", "refund") if name in ok
    ]
    if "refund" in results and "refund" not in ok and order and amount:
        facts.append(
            f"We could not refund {float(amount.group(1)):.2f} EUR on order {order.group(1)}:"
            f" {customer_reason(results['refund'])}."
        )
    return " ".join(facts) or "We will look into it."


def support_planner() -> ScriptedChatModel:
    """A scripted planner: classify, look the order up, refund when asked, draft, answer.

    Its judgement (which step comes next, and the amount) reads the tool results; the
    offline router cannot chain these steps.
    """

    def step(messages: list[BaseMessage]) -> AIMessage:
        start = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        request = str(messages[start].content)
        tool_messages = [m for m in messages[start:] if isinstance(m, ToolMessage)]
        results = {str(m.name): str(m.content) for m in tool_messages}
        ok = {m.name for m in tool_messages if m.status == "success"}
        intent = results.get("classify_request", "intent=other").split()[0].split("=")[1]
        order = _ORDER.search(request)
        amount = _AMOUNT.search(request)
        if "classify_request" not in results:
            return calls(call("classify_request", text=request))
        if order and "lookup_order" not in results:
            return calls(call("lookup_order", order_id=int(order.group(1))))
        customer = _CUSTOMER.search(request)
        if customer and not order and "lookup_customer" not in results:
            return calls(call("lookup_customer", customer_id=customer.group()))
        found = "lookup_order" in ok
        if intent == "refund" and found and amount and order and "refund" not in results:
            return calls(
                call("refund", order_id=int(order.group(1)), amount=float(amount.group(1)))
            )
        if "draft_reply" not in results:
            facts = _facts(results, ok, order, customer, amount)
            return calls(call("draft_reply", intent=intent, facts=facts))
        return AIMessage(content=results["draft_reply"])

    return ScriptedChatModel(turns=[step], repeat_last=True, model="scripted-support-planner")


def support_screens() -> Screens:
    """The default screens, plus two for support.

    Personal data is redacted from the request before anything reads it, and a refund
    above the threshold is put to a person.
    """
    screens = Screens.default()
    screens.input = [*screens.input, Check(PII(), "fix")]
    screens.tools["refund"] = ToolChecks(
        arguments=[Check(RefundAbove(REFUND_APPROVAL_ABOVE), "escalate")]
    )
    return screens


def build_agent(database: Path, memory: MemoryStore | None = None) -> Agent:
    """The support agent over ``database``, with the example's policy."""
    return Agent(
        support_tools(database),
        model=support_planner(),
        guards=support_screens(),
        policy=POLICY,
        memory=memory,
    )


def main() -> int:
    """Answer one request as a principal of policy.yaml, asking at the terminal for approvals.

    Exit codes: 0 answered (the reply says what was done and what failed); 2 bad input (a
    principal the policy does not know, a data folder that cannot be written).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("request")
    parser.add_argument("--as", dest="who", default="ana")
    parser.add_argument("--data", type=Path, default=Path("support-data"))
    options = parser.parse_args()
    try:
        principal = Policy.load(POLICY).principal(options.who)
    except PodiumError as error:
        return bad_input(error.problem, error.fix)
    try:
        options.data.mkdir(parents=True, exist_ok=True)
        database = store.seed(options.data / "shop.db")
    except (OSError, sqlite3.Error) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        return bad_input(
            f"cannot keep the shop's data in {options.data}: {reason or error}",
            "give a folder you can write, like --data support-data",
        )
    agent = build_agent(database, MemoryStore(options.data / "memory"))
    run_at_terminal(agent, options.request, principal)
    return 0


if __name__ == "__main__":
    sys.exit(main())
