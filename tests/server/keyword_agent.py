"""An agent planned by keywords (a scripted model) over two tools, for the decider tests.

``release`` (web_agent's) waits for approval and has a side effect; ``read_secret`` reads
what only its scope may see. The scripted model calls them by the request's words and
answers with the outputs, so a test sees exactly what a run returned to whom.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from podium.agent import Agent
from podium.guardrails.policy import Policy
from podium.planner.models.scripted import ScriptedChatModel
from podium.tools.registry import tool
from tests.server.web_agent import RELEASED, answer_with_outputs, call_of, release

__all__ = ["RELEASED", "release"]

SECRETS: list[str] = []


@tool
def read_secret(name: str) -> str:
    """Read a secret."""
    SECRETS.append(name)
    return f"secret {name} = hunter2"


def plan(messages: list[BaseMessage]) -> AIMessage:
    """Call the tools the request's words name (the version: its last word)."""
    if (answered := answer_with_outputs(messages, cut=10_000)) is not None:
        return answered
    request = next(str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage))
    words = request.lower()
    planned = []
    if "release" in words:
        planned.append(call_of("release", version=request.split()[-1]))
    if "secret" in words:
        planned.append(call_of("read_secret", name=request.split()[-1]))
    if words.startswith("remember "):
        planned.append(call_of("memory_save", text=request[len("remember ") :]))
    elif "memory" in words:
        planned.append(call_of("memory_search", query=request.split()[-1]))
    if not planned:
        return AIMessage(content=f"You said: {request}")
    return AIMessage(content="", tool_calls=planned)


def agent(home: Path, policy_text: str, name: str = "policy.yaml", memory: bool = False) -> Agent:
    path = home / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(policy_text)
    model = ScriptedChatModel(turns=[plan], repeat_last=True, model="scripted-keyword-planner")
    if memory:
        from podium.cli.common import memory_store

        return Agent(
            [release, read_secret],
            model=model,
            policy=Policy.load(path),
            memory=memory_store(),
            builtins=True,
        )
    return Agent([release, read_secret], model=model, policy=Policy.load(path))


def token(who: str) -> str:
    return f"{who}-token-0123456789"


def tokens(*names: str) -> dict[str, str]:
    return {token(n): n for n in names}


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(who)}"}


def agui(client: httpx.Client, body: dict[str, Any], who: str) -> list[dict[str, Any]]:
    events = []
    with client.stream("POST", "/agui", json=body, headers=auth(who)) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    return events
