"""Handoff: a triage agent passes a billing conversation to the billing agent for good.

The billing agent gets a filtered brief (why it was handed over, and the person's own
words), not the triage agent's tool outputs; later messages on the thread go straight to it.
Each run starts a new thread (it prints its id); ``--thread ID`` continues one.

    python -m examples.patterns.handoff "A billing problem: I was charged twice and want a refund"
    python -m examples.patterns.handoff --thread example-1a2b3c4d "Refund 20 EUR for order A-7"
"""

from __future__ import annotations

import argparse
import uuid
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


DEFAULT_MESSAGES = [
    "A billing problem: I was charged twice and want a refund",
    "Refund 20 EUR for order A-7",
]


def main(argv: list[str] | None = None) -> None:
    """Run the messages given on the command line as one conversation, on a new thread."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("messages", nargs="*", help="the person's messages, in order")
    parser.add_argument("--thread", help="continue this thread instead of starting one")
    options = parser.parse_args(argv)
    desk = build_desk()
    if options.thread:
        thread = options.thread
        print(f"thread {thread}: continued, with {desk.owner(thread)}")
    else:
        thread = f"example-{uuid.uuid4().hex[:8]}"
        print(f"thread {thread}: new (continue it with --thread {thread})")
    for message in options.messages or DEFAULT_MESSAGES:
        print(f"you: {message}")
        result = desk.invoke(message, thread_id=thread)
        moved = "".join(f" [{t.source} -> {t.target}]" for t in result.transfers)
        print(f"{result.agent}{moved}: {result.answer}")


if __name__ == "__main__":
    main()
