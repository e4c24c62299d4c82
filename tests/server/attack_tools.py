"""A real MCP server whose tools the attack tests aim at: `python attack_tools.py EFFECTS`.

Every call of a tool with a side effect appends a line to the EFFECTS file, so a test can
count what really ran, in this process, whatever the agent's server says.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("attack-targets")
EFFECTS = Path(sys.argv[1])


def _effect(line: str) -> None:
    with EFFECTS.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


@server.tool(annotations=ToolAnnotations(destructive_hint=True))
def release_version(version: str) -> str:
    """Release a version of the app to production."""
    _effect(f"released {version}")
    return f"released {version}"


@server.tool(annotations=ToolAnnotations(destructive_hint=True))
def brew_coffee(cups: int) -> str:
    """Brew cups of coffee, slowly: it takes two seconds."""
    time.sleep(2)
    _effect(f"brewed {cups}")
    return f"brewed {cups} cups"


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def read_secret_plan() -> str:
    """Read the secret plan of the operations team."""
    return "the secret plan: move the servers on Friday"


if __name__ == "__main__":
    server.run("stdio")
