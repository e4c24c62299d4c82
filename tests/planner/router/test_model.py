from __future__ import annotations

import time
from typing import Any, Literal

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from podium.planner.router import RouterChatModel
from podium.planner.router.args import fill_arguments
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


def test_numbers_follow_their_units_scales_and_spelled_names() -> None:
    def final_temperature(mass1: int, temperature1: int, mass2: int, temperature2: int) -> str:
        """Final temperature of two bodies mixed.

        Args:
            mass1: The mass of the first body (kg).
            temperature1: The initial temperature of the first body (Celsius).
            mass2: The mass of the second body (kg).
            temperature2: The initial temperature of the second body (Celsius).
        """
        return ""

    schema = make_tool(final_temperature).parameters_schema()
    text = "20 kg of water at 30 degree Celsius is mixed with 15 kg of water at 60 degree Celsius"
    assert fill_arguments(schema, text).arguments == {
        "mass1": 20,
        "temperature1": 30,
        "mass2": 15,
        "temperature2": 60,
    }

    def dividend(total_payout: int, outstanding_shares: int, charge: float = 1.0) -> str:
        """Dividend per share.

        Args:
            total_payout: The total dividend payout in USD.
            outstanding_shares: The number of outstanding shares.
            charge: A fee, 1e-9 by default.
        """
        return ""

    filled = fill_arguments(
        make_tool(dividend).parameters_schema(),
        "100 million outstanding shares and a total payout of 50 million USD, charge 2e-9",
    )
    assert filled.arguments == {
        "outstanding_shares": 100_000_000,
        "total_payout": 50_000_000,
        "charge": 2e-9,
    }


def test_string_parameters_take_short_spans_not_the_whole_sentence() -> None:
    def melting_point(substance: str, sea_level: int) -> str:
        """Find the boiling point and melting point of a substance at a sea level."""
        return ""

    def directions(start_location: str, end_location: str) -> str:
        """Get driving directions."""
        return ""

    def derivative(function: str) -> str:
        """Calculate the derivative of a function."""
        return ""

    def run(function: Any, text: str) -> dict[str, Any]:
        tool = make_tool(function)
        [call] = RouterChatModel().plan(text, [tool.openai_schema()]).tool_calls
        return dict(call["args"])

    assert run(melting_point, "Find the boiling point of water at a sea level of 5000m") == {
        "substance": "water",
        "sea_level": 5000,
    }
    assert run(directions, "Get directions from Sydney to Melbourne by the fastest route") == {
        "start_location": "Sydney",
        "end_location": "Melbourne",
    }
    assert run(derivative, "Calculate the derivative of the function 3x^2 + 2x - 1.") == {
        "function": "3x**2 + 2x - 1"
    }


def test_after_a_round_it_makes_the_calls_the_results_allow() -> None:
    def find_customer(email: str) -> str:
        """Find a customer by their email address."""
        return ""

    def list_orders(customer_id: str) -> str:
        """List the orders of a customer by customer id."""
        return ""

    tools = [make_tool(f).openai_schema() for f in (find_customer, list_orders)]
    model = RouterChatModel().bind_tools(tools)
    request = HumanMessage("Find the customer with email ann@example.com, then list their orders")
    first = model.invoke([request])
    assert isinstance(first, AIMessage)
    assert calls(first) == [("find_customer", {"email": "ann@example.com"})]
    result = ToolMessage("customer C-17 (Ann Lee)", tool_call_id=first.tool_calls[0]["id"])
    second = model.invoke([request, first, result])
    assert isinstance(second, AIMessage)
    assert calls(second) == [("list_orders", {"customer_id": "C-17"})]
    done = ToolMessage("2 orders", tool_call_id=second.tool_calls[0]["id"])
    third = model.invoke([request, first, result, second, done])
    assert isinstance(third, AIMessage) and third.tool_calls == []  # nothing new: it answers
    assert "2 orders" in str(third.content)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 20_000,
        "a-" * 10_000,
        "1 " * 10_000,
        "from a " * 3_000,
        "a/" * 10_000,
        "order 12 " * 3_000,
        "January 1, " * 3_000,
        "a, " * 10_000,
        "a and " * 5_000,
        "Aa of " * 5_000,
        "'a " * 10_000,
        "1, " * 10_000,
        "in a " * 5_000,
        "Send an invoice. " * 1_200,
    ],
)
def test_pathological_requests_are_planned_in_linear_time(text: str) -> None:
    # A long request is allowed (up to half the context window); a rule that rescans the
    # text from every position would take minutes on these. CPU time, not wall time: the
    # claim is about the work done, and a loaded machine stretches wall time alone.
    started = time.process_time()
    RouterChatModel().plan(text, TOOLS)
    assert time.process_time() - started < 5.0


@pytest.mark.parametrize(
    "text",
    [
        "What is +1" + "1" * 12_000 + "?",  # 25 s before: EXPRESSION rescanned the digits
        "What is 1 +" + " " * 12_000 + "2?",  # spaces: the clause splitters did the same
        "What is 12" + ".5" * 6_000 + " kg?",  # a unit after digits, dots and commas
        "Compare " + "a-" * 6_000 + "b and c",  # a list's first item inside a long word
        "What is " + "1+" * 6_000 + "1?",  # each number's context rescanned the rest
    ],
)
def test_long_runs_of_digits_and_spaces_are_planned_in_linear_time(text: str) -> None:
    # The calculator's requests: every rule that reads numbers and expressions, over 12 KB.
    # The bound is generous (the machine may be shared); quadratic rules took 8-25 s each.
    started = time.process_time()
    RouterChatModel().plan(text, TOOLS)
    assert time.process_time() - started < 15.0
