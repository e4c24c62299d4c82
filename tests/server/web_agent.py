"""An agent with a known plan for the web page, AG-UI, MCP and A2A tests: no LLM.

Its model reads the person's last request and calls the tools that request names; once the
tools answered, it answers with what they returned. Its tools include one that returns
hostile HTML, one with a very long output, and one that needs approval.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from podium.agent import Agent
from podium.guardrails.policy import Policy
from podium.planner.models.scripted import ScriptedChatModel
from podium.tools.registry import tool

HOSTILE = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'
LONG_LINES = 4000
RELEASED: list[str] = []
POLICY = """\
roles:
  lead: {scopes: ["approve:release"]}
principals:
  ann: {}
  lead: {roles: [lead]}
  eve: {}
tools:
  release: {needs_approval: true}
"""
TOKENS = {f"{name}-token-0123456789": name for name in ("ann", "lead", "eve")}


@tool
def order_status(order_id: str) -> str:
    """Look up the status of an order by its id."""
    return f"order {order_id} shipped"


@tool
def fetch_page(url: str) -> str:
    """Fetch a web page's text."""
    return f"page {url}: {HOSTILE}"


@tool
def build_log(job: str) -> str:
    """Read the full log of a build job."""
    return "\n".join(f"{job} line {n}: compiling module {n}" for n in range(LONG_LINES))


@tool(needs_approval=True, risk="high", side_effects=True)
def release(version: str) -> str:
    """Release a version of the app to production."""
    RELEASED.append(version)
    return f"released {version}"


def call_of(name: str, /, **arguments: Any) -> dict[str, Any]:
    """A tool call as a model plans it."""
    call_id = f"call_{uuid.uuid4().hex[:8]}"
    return {"name": name, "args": arguments, "id": call_id, "type": "tool_call"}


def answer_with_outputs(messages: list[BaseMessage], cut: int = 300) -> AIMessage | None:
    """After the tools answered, the answer made of their outputs; else None."""
    if not isinstance(messages[-1], ToolMessage):
        return None
    outputs: list[str] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        outputs.insert(0, str(message.content))
    return AIMessage(content="Done: " + " | ".join(o[:cut] for o in outputs))


def plan(messages: list[BaseMessage]) -> AIMessage:
    """Call the tools the last request names; after their outputs, answer with them."""
    if (answered := answer_with_outputs(messages)) is not None:
        return answered
    request = next(str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage))
    words = request.lower()
    planned = []
    if "order" in words:
        planned.append(call_of("order_status", order_id=request.split()[-1].strip("?")))
    if "page" in words:
        planned.append(call_of("fetch_page", url="http://example.test/"))
    if "log" in words:
        planned.append(call_of("build_log", job="nightly"))
    if "release" in words:
        planned += [call_of("release", version=v) for v in ("1.0", "2.0")]
    if not planned:
        return AIMessage(content=f"You said: {request}")
    return AIMessage(content="", tool_calls=planned)


def web_agent(home: Path | None = None, policy: bool = True) -> Agent:
    """The agent, with the test policy (ann asks, lead approves releases) unless told not to."""
    model = ScriptedChatModel(turns=[plan], repeat_last=True, model="keyword-planner")
    rules = None
    if policy:
        path = (home or Path(".")) / "web-policy.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(POLICY)
        rules = Policy.load(path)
    return Agent([order_status, fetch_page, build_log, release], model=model, policy=rules)
