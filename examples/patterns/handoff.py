"""Handoff: a triage agent passes a billing conversation to the billing agent for good.

The billing agent gets a filtered brief (why it was handed over, and the person's own
words), not the triage agent's tool outputs; later messages on the thread go straight to it.

    python -m examples.patterns.handoff "A billing problem: I was charged twice and want a refund"
"""

from __future__ import annotations

import sys
from pathlib import Path

from podium.agent import Agent
from podium.patterns.handoff import Handoffs
from podium.tools.registry import tool

REFUNDS: list[tuple[str, float]] = []


@tool(repeatable=True)
def order_status(order_id: str) -> str:
    """Look up the shipping status of an order by its id."""
    return f"order {order_id} left the warehouse yesterday"


@tool(side_effects=True)
def refund(order_id: str, amount: float) -> str:
    """Refund an amount of money (EUR) for an order."""
    REFUNDS.append((order_id, amount))
    return f"refunded {amount:.2f} EUR for order {order_id}"


def build_desk(home: Path | None = None) -> Handoffs:
    """Triage (order status) and billing (refunds); either may hand to the other."""
    return Handoffs(
        {"triage": Agent([order_status]), "billing": Agent([refund])},
        start="triage",
        descriptions={
            "triage": "general questions, order status and shipping",
            "billing": "billing: refunds, invoices, charges and payments",
        },
        home=home,
    )


def main() -> None:
    """Run the messages given on the command line as one conversation."""
    desk = build_desk()
    messages = sys.argv[1:] or [
        "A billing problem: I was charged twice and want a refund",
        "Refund 20 EUR for order A-7",
    ]
    for message in messages:
        result = desk.invoke(message, thread_id="example")
        moved = "".join(f" [{t.source} -> {t.target}]" for t in result.transfers)
        print(f"{result.agent}{moved}: {result.answer}")


if __name__ == "__main__":
    main()
