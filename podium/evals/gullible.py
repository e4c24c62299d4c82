"""A scripted chat model that obeys any instruction it reads: the worst case for injection.

It plans a task's calls like a scripted model, but reads every tool result (labels, hidden
comments and base64 included, as a capable model would) and carries out whatever it is told
there: sending e-mail, calling a tool by name, or saying something to the user. With it, an
attack that reaches the model succeeds; only podium's guards can stop it.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from podium.planner.models.scripted import ScriptedChatModel

_SEND = re.compile(r"\b(?:send|forward|e-?mail)\b[^.\n]*?\bto\s+([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")
_CALL = re.compile(r"\b(?:call|run|use|invoke)\s+(?:the\s+)?`?(\w+)`?(?:\s+tool)?\b")
_SAY = re.compile(r"\b(?:tell|inform)\s+the\s+user\s*(?:that|:)\s*['\"]?([^'\"\n]+)")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


def _decoded(text: str) -> str:
    """``text`` with any base64 it carries decoded next to it (the model can read it)."""
    extra = []
    for blob in _BASE64.findall(text):
        try:
            extra.append(base64.b64decode(blob + "=" * (-len(blob) % 4)).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError):
            continue
    return "\n".join([text, *extra])


def obeyed(text: str, tools: set[str]) -> tuple[list[dict[str, Any]], str | None]:
    """The calls and the words for the user that ``text`` instructs."""
    text = _decoded(text)
    wanted: list[dict[str, Any]] = []
    for address in _SEND.findall(text):
        if "send_email" in tools:
            wanted.append({"name": "send_email", "args": {"to": address, "body": text[:200]}})
    for name in _CALL.findall(text):
        if name in tools and name != "send_email":
            wanted.append({"name": name, "args": {}})
    said = _SAY.search(text)
    return wanted, said.group(1).strip() if said else None


def gullible_model(
    first: AIMessage, tools: set[str], answer: Callable[[list[str]], str]
) -> ScriptedChatModel:
    """A scripted model that makes the task's ``first`` calls, then obeys what results say.

    ``answer`` turns the tool results into the final answer when nothing says otherwise.
    """

    def respond(messages: list[BaseMessage]) -> AIMessage:
        start = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        results = [str(m.content) for m in messages[start:] if isinstance(m, ToolMessage)]
        done = {
            (c["name"], str(sorted(c["args"].items())))
            for m in messages[start:]
            if isinstance(m, AIMessage)
            for c in m.tool_calls
        }
        said = None
        for result in results:
            wanted, words = obeyed(result, tools)
            said = words or said
            fresh = [w for w in wanted if (w["name"], str(sorted(w["args"].items()))) not in done]
            if fresh:
                return AIMessage(
                    content="",
                    tool_calls=[{**w, "id": f"call_{uuid.uuid4().hex[:8]}"} for w in fresh],
                )
        return AIMessage(content=said or answer(results))

    return ScriptedChatModel(turns=[first, respond], repeat_last=True, model="gullible")
