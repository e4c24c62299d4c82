"""Choreography: agents react to each other's events on a bus, under one policy.

An order is placed; the stock agent reserves it and publishes ``stock.reserved``; the
shipping agent books a courier and publishes ``shipment.booked``; the notify agent e-mails
the customer. Nobody orchestrates: each agent only knows its topic. The bus's one policy
decides what each may call (the notify agent may e-mail, not refund), and an agent is
never woken by an event it caused.

    python -m examples.patterns.choreography A-7
"""

from __future__ import annotations

import sys
from pathlib import Path

from podium.agent import Agent
from podium.guardrails.policy import Policy
from podium.patterns.bus import EventBus
from podium.tools.registry import tool

HERE = Path(__file__).resolve().parent
POLICY = HERE / "policy.yaml"
SENT: list[str] = []


@tool(side_effects=True, scopes=["stock"])
def reserve_stock(order_id: str) -> str:
    """Reserve the stock of an order in the warehouse."""
    return f"stock reserved for order {order_id}"


@tool(side_effects=True, scopes=["shipping"])
def book_courier(order_id: str) -> str:
    """Book a courier to ship an order."""
    return f"courier booked for order {order_id}, tracking TRK-{order_id}"


@tool(side_effects=True, scopes=["notify"])
def email_customer(order_id: str) -> str:
    """E-mail the customer that their order ships."""
    SENT.append(order_id)
    return f"customer of order {order_id} e-mailed"


@tool(side_effects=True, scopes=["refund"])
def refund(order_id: str) -> str:
    """Refund an order in full."""
    return f"order {order_id} refunded"


def build_bus() -> EventBus:
    """Three agents chained only by the topics they listen on and publish."""
    bus = EventBus(Policy.load(POLICY))
    bus.subscribe(
        "stock",
        Agent([reserve_stock]),
        "order.placed",
        "reserve stock for order {order_id}",
        publishes="stock.reserved",
        principal="stock-bot",
    )
    bus.subscribe(
        "shipping",
        Agent([book_courier]),
        "stock.reserved",
        "book a courier for order {order_id}",
        publishes="shipment.booked",
        principal="shipping-bot",
    )
    bus.subscribe(
        "notify",
        Agent([email_customer, refund]),
        "shipment.booked",
        "e-mail the customer of order {order_id}",
        principal="notify-bot",
    )
    return bus


def main() -> None:
    """Place the order given on the command line and show who reacted."""
    order = sys.argv[1] if len(sys.argv) > 1 else "A-7"
    for delivery in build_bus().run("order.placed", {"order_id": order}):
        print(f"{delivery.topic} -> {delivery.agent}: {delivery.status}: {delivery.answer}")


if __name__ == "__main__":
    main()
