"""Fan-out and join: one question to every regional warehouse agent at once, then a join.

Each warehouse is an Agent with its own stock tool; ``FanOut`` sends the question to all of
them with LangGraph ``Send`` and joins their answers into one total. A warehouse whose
system is down fails its branch only: the join adds up the others and says which is missing.

    python -m examples.patterns.fanout SKU-12
"""

from __future__ import annotations

import re
import sys

from podium.agent import Agent
from podium.patterns.fanout import Branch, FanOut
from podium.tools.registry import Tool, tool

STOCK = {
    "north": {"SKU-12": 40, "SKU-7": 3},
    "south": {"SKU-12": 15},
    "east": {"SKU-12": 22, "SKU-7": 9},
}
DOWN = {"west"}  # its system is unreachable today


def stock_tool(region: str) -> Tool:
    """The stock lookup of one warehouse."""

    @tool(name="stock_level", repeatable=True)
    def stock_level(sku: str) -> str:
        """How many units of a product (by its SKU code) this warehouse holds.

        Args:
            sku: The product's SKU code, e.g. SKU-12.
        """
        if region in DOWN:
            raise ConnectionError(f"the {region} warehouse system does not answer")
        return f"{STOCK[region].get(sku, 0)} units of {sku} in {region}"

    return stock_level


def total_units(request: str, branches: list[Branch]) -> str:
    """Add up the units the warehouses report; name the ones that did not answer."""
    counts: dict[str, int] = {}
    for branch in branches:
        found = re.search(r"→ (\d+) units", branch.answer)
        if branch.ok and found:
            counts[branch.name] = int(found.group(1))
    missing = sorted(b.name for b in branches if b.name not in counts)
    parts = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    answer = f"{sum(counts.values())} units in total ({parts})"
    return answer + (f"; no answer from {', '.join(missing)}" if missing else "")


def build_fanout() -> FanOut:
    """One agent per warehouse, asked at once."""
    regions = [*STOCK, *DOWN]
    agents = {region: Agent([stock_tool(region)]) for region in regions}
    return FanOut(agents, join=total_units, timeout=30)


def main() -> None:
    """Report the stock of the SKU given on the command line."""
    sku = sys.argv[1] if len(sys.argv) > 1 else "SKU-12"
    result = build_fanout().invoke(f"What is the stock level of {sku}?")
    print(result.answer)


if __name__ == "__main__":
    main()
