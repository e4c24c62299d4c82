"""ScriptedChatModel: a chat model that plays back turns written in advance (for tests).

It stands in for an LLM wherever a test needs a known plan. It records every call it gets,
and ``assert_complete()`` fails when a scripted turn was never asked for.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import PrivateAttr

from podium.planner.prompts import unspotlight

Turn = AIMessage | str | Callable[[list[BaseMessage]], AIMessage | str]


def call(name: str, call_id: str | None = None, /, **arguments: Any) -> dict[str, Any]:
    """A tool call for a scripted turn: ``call("add", a=1, b=2)``."""
    return {
        "name": name,
        "args": arguments,
        "id": call_id or f"call_{uuid.uuid4().hex[:8]}",
        "type": "tool_call",
    }


def calls(*tool_calls: dict[str, Any], content: str = "") -> AIMessage:
    """An AI turn that asks for the given tool calls (all in one round)."""
    return AIMessage(content=content, tool_calls=list(tool_calls))


def _unlabeled(message: BaseMessage) -> BaseMessage:
    if not isinstance(message, ToolMessage):
        return message
    return message.model_copy(update={"content": unspotlight(str(message.content))})


@dataclass(frozen=True)
class RecordedCall:
    """One request the scripted model answered."""

    messages: list[BaseMessage]
    tools: list[dict[str, Any]]
    tool_choice: str | None = None


class ScriptedChatModel(BaseChatModel):
    """Answers each request with the next scripted turn.

    A turn is an AIMessage, text, or a function of the messages so far returning either.
    Such a function reads tool output as the tool returned it: the data labels the model
    sees (``<tool_output>``) are taken off, as a model reading them would. ``calls`` keeps the
    messages exactly as sent.
    """

    turns: list[Any]
    model: str = "scripted"
    latency: float = 0.0
    repeat_last: bool = False
    _position: int = PrivateAttr(default=0)
    _calls: list[RecordedCall] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def model_name(self) -> str:
        """The name podium reports for this model."""
        return self.model

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request so far, in order."""
        return list(self._calls)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept tool schemas as a real chat model does; they are recorded with each call."""
        bound = self.bind(tools=list(tools), tool_choice=tool_choice, **kwargs)
        return cast("Runnable[LanguageModelInput, AIMessage]", bound)

    def restart(self) -> None:
        """Play the script again from its first turn, forgetting the calls recorded so far.

        One model then serves many runs, as a real one does (a benchmark's rounds).
        """
        self._position = 0
        self._calls.clear()

    def assert_complete(self) -> None:
        """Fail if some scripted turns were never used."""
        left = len(self.turns) - self._position
        if left > 0:
            raise AssertionError(f"{left} scripted turn(s) were never requested")

    def _next(
        self, messages: list[BaseMessage], tools: list[dict[str, Any]], choice: str | None
    ) -> ChatResult:
        self._calls.append(RecordedCall(messages=list(messages), tools=tools, tool_choice=choice))
        if self._position >= len(self.turns):
            if not (self.repeat_last and self.turns):
                raise AssertionError(
                    f"the script has {len(self.turns)} turn(s) and a call asked for one more"
                )
            turn = self.turns[-1]
            repeated = True
        else:
            repeated = False
            turn = self.turns[self._position]
            self._position += 1
        if callable(turn) and not isinstance(turn, AIMessage):
            turn = turn([_unlabeled(m) for m in messages])
        if isinstance(turn, str):
            message = AIMessage(content=turn)
        else:
            message = turn.model_copy()
        if repeated:  # a replayed turn gets fresh call ids, as a real model's would be
            message.tool_calls = [
                {**c, "id": f"call_{uuid.uuid4().hex[:8]}"} for c in message.tool_calls
            ]
        message.usage_metadata = message.usage_metadata or {
            "input_tokens": 0,
            "output_tokens": 0,
            "total_tokens": 0,
        }
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            time.sleep(self.latency)
        return self._next(messages, kwargs.get("tools", []), kwargs.get("tool_choice"))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            await asyncio.sleep(self.latency)
        return self._next(messages, kwargs.get("tools", []), kwargs.get("tool_choice"))
