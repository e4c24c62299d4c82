"""Supervisor: a central agent delegates each part of a request to a specialist sub-agent.

The specialists are Agents with their own tools, registered in the supervisor's registry as
tools (``Agent.as_tool``); parts of one request go to them in the same round, at once, and
their usage adds up in the supervisor's result.

    python -m examples.patterns.supervisor \
        "Compute the product 12 * 7. Then what does the handbook say about refunds?"
"""

from __future__ import annotations

import sys

from podium.agent import Agent
from podium.tools.builtin import calculator
from podium.tools.registry import tool

HANDBOOK = {
    "refunds": "Refunds are paid within 14 days to the original payment method.",
    "shipping": "Orders ship within 2 working days; express ships the same day.",
    "returns": "Items can be returned within 30 days, unused and in their box.",
}


@tool(repeatable=True)
def handbook(topic: str) -> str:
    """Look a topic up in the company handbook (refunds, shipping, returns).

    Args:
        topic: The handbook topic, e.g. refunds.
    """
    key = next((k for k in HANDBOOK if k.rstrip("s") in topic.lower()), None)
    if key is None:
        return f"The handbook has no section on {topic!r}; it covers {', '.join(HANDBOOK)}."
    return HANDBOOK[key]


def build_supervisor() -> Agent:
    """The supervisor with two specialists: arithmetic and the handbook."""
    math = Agent([calculator])
    research = Agent([handbook])
    return Agent(
        [
            math.as_tool("math_specialist", "Arithmetic: compute sums, products and percentages."),
            research.as_tool(
                "handbook_specialist", "Company handbook questions: refunds, shipping, returns."
            ),
        ]
    )


def main() -> None:
    """Answer the request given on the command line."""
    request = " ".join(sys.argv[1:]) or (
        "Compute the product 12 * 7. Then what does the handbook say about refunds?"
    )
    result = build_supervisor().invoke(request)
    print(result.answer)
    for call in result.tool_calls:
        print(f"  {call['name']}: {call['status']}")


if __name__ == "__main__":
    main()
