"""podium: an orchestration agent with memory, guards and policy around an LLM planner.

The public names load on first use, so ``import podium`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.config import Settings
    from podium.errors import PodiumError
    from podium.guardrails.policy import Policy
    from podium.identity import Principal
    from podium.planner.approvals import Approval
    from podium.results import RunResult
    from podium.tools.registry import Tool, ToolContext, ToolRegistry, tool

__all__ = [
    "Agent",
    "Approval",
    "PodiumError",
    "Policy",
    "Principal",
    "RunResult",
    "Settings",
    "Tool",
    "ToolContext",
    "ToolRegistry",
    "tool",
]
_HOMES = {
    "Agent": "podium.agent",
    "RunResult": "podium.results",
    "Approval": "podium.planner.approvals",
    "Settings": "podium.config",
    "PodiumError": "podium.errors",
    "Policy": "podium.guardrails.policy",
    "Principal": "podium.identity",
    "Tool": "podium.tools.registry",
    "ToolContext": "podium.tools.registry",
    "ToolRegistry": "podium.tools.registry",
    "tool": "podium.tools.registry",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'podium' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
