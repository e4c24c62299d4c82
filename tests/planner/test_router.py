from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from podium.planner.models.router import RouterChatModel
from podium.planner.models.router_args import fill_arguments
from podium.tools.builtin import builtin_tools
from podium.tools.registry import make_tool


def book_flight(
    origin: str, destination: str, passengers: int, cabin: Literal["economy", "business"]
) -> str:
    """Book a flight between two airports.

    Args:
        origin: Departure airport code, e.g. "CDG".
        destination: Arrival airport code, e.g. "JFK".
        passengers: Number of passengers.
        cabin: Cabin class.
    """
    return "booked"


def send_invoice(email: str, amount: float, due: str, paid: bool = False) -> str:
    """Send an invoice by email.

    Args:
        email: Recipient address.
        amount: Amount in euros.
        due: Due date, e.g. "2025-01-31".
        paid: Whether it is already paid.
    """
    return "sent"


def triangle_area(base: int, height: int) -> float:
    """Calculate the area of a triangle from its base and height."""
    return base * height / 2


TOOLS = [t.openai_schema() for t in builtin_tools()] + [
    make_tool(f).openai_schema() for f in (book_flight, send_invoice, triangle_area)
]


def plan(text: str) -> AIMessage:
    return RouterChatModel().plan(text, TOOLS)


def calls(message: AIMessage) -> list[tuple[str, dict[str, Any]]]:
    return [(c["name"], c["args"]) for c in message.tool_calls]


def test_picks_the_tool_and_fills_its_arguments() -> None:
    assert calls(plan("Find the area of a triangle with a height of 5 and base of 10")) == [
        ("triangle_area", {"base": 10, "height": 5})
    ]
    assert calls(plan("what is 12.5 * (4 - 1)")) == [
        ("calculator", {"expression": "12.5 * (4 - 1)"})
    ]


def test_fills_typed_values_from_the_text() -> None:
    assert calls(
        plan("Send an invoice of 120.50 to ana@example.com due 2025-03-01, already paid")
    ) == [
        (
            "send_invoice",
            {"email": "ana@example.com", "amount": 120.5, "due": "2025-03-01", "paid": True},
        )
    ]
    assert calls(plan("Book a business flight from CDG to JFK for 2 passengers")) == [
        (
            "book_flight",
            {"origin": "CDG", "destination": "JFK", "passengers": 2, "cabin": "business"},
        )
    ]


def test_each_clause_of_a_compound_request_gets_its_call() -> None:
    message = plan("What time is it in Asia/Tokyo, and what is 6*7?")
    assert sorted(calls(message)) == [
        ("calculator", {"expression": "6*7"}),
        ("current_time", {"timezone": "Asia/Tokyo"}),
    ]
    assert len({c["id"] for c in message.tool_calls}) == 2


def test_calls_no_tool_when_nothing_fits() -> None:
    message = plan("Write a sonnet about the sea")
    assert message.tool_calls == []
    assert "No tool fits" in str(message.content)


def test_asks_for_values_it_cannot_find() -> None:
    message = plan("Book a flight to somewhere warm")
    assert message.tool_calls == []
    assert "book_flight needs" in str(message.content)


def test_composes_the_answer_from_tool_results() -> None:
    model = RouterChatModel().bind_tools(TOOLS)
    reply = model.invoke(
        [
            HumanMessage("what is 6*7"),
            AIMessage(
                "",
                tool_calls=[
                    {
                        "name": "calculator",
                        "args": {"expression": "6*7"},
                        "id": "c1",
                        "type": "tool_call",
                    }
                ],
            ),
            ToolMessage("42", tool_call_id="c1"),
        ]
    )
    assert isinstance(reply, AIMessage) and reply.tool_calls == []
    assert reply.content == 'calculator(expression="6*7") → 42'


def test_is_deterministic() -> None:
    request = "what is 2+2 and what time is it in Europe/Oslo"
    assert calls(plan(request)) == calls(plan(request))


def test_number_goes_to_the_parameter_named_before_it() -> None:
    schema = make_tool(triangle_area).parameters_schema()
    filled = fill_arguments(schema, "height 3 and base 8")
    assert filled.arguments == {"base": 8, "height": 3} and filled.missing == []
