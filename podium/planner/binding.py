"""The agent's chat models with its tools bound: tool choice, typed output, output bound.

Binding costs a conversion of every tool's schema, so each combination is bound once and
kept until the registry changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from podium.errors import ConfigError
from podium.planner.models import model_name
from podium.planner.output import answer_tool, native_format

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

    from podium.tools.registry import ToolRegistry

Key = tuple[int, tuple[str, ...], str, type[BaseModel] | None]


def asks_natively(model: BaseChatModel, mode: str = "auto") -> bool:
    """Whether typed output is asked of ``model`` as ``response_format`` with the schema.

    ``auto``: for OpenAI's own models; ``native`` for any OpenAI-compatible server that takes
    it (vLLM, llama.cpp); ``tool``: never, the final-answer tool serves every model.
    """
    if mode == "tool" or type(model).__name__ != "CompatibleChatOpenAI":
        return False
    if mode == "native":
        return True
    base = getattr(model, "openai_api_base", None)
    return not base or "api.openai.com" in str(base)


class Bindings:
    """Chat models bound to a registry's tools, one binding per combination, cached."""

    def __init__(
        self, registry: ToolRegistry, max_output_tokens: int | None = None, mode: str = "auto"
    ) -> None:
        self.registry = registry
        self.max_output_tokens = max_output_tokens
        self.mode = mode
        self._bound: dict[Key, tuple[BaseChatModel, Runnable[Any, BaseMessage]]] = {}

    def bound(
        self,
        model: BaseChatModel,
        choice: str = "auto",
        output_type: type[BaseModel] | None = None,
    ) -> Runnable[Any, BaseMessage]:
        """``model`` with the tools bound (and the final-answer tool, for typed output).

        ``choice`` is sent as the request's ``tool_choice``: some servers (llama-cpp-python)
        drop the tools silently without it.
        """
        names = tuple(self.registry.names())
        key = (id(model), names, choice, output_type)
        cached = self._bound.get(key)
        if cached is not None and cached[0] is model:  # an id can be reused after a model dies
            return cached[1]
        native = output_type is not None and asks_natively(model, self.mode)
        schemas: list[dict[str, Any]] = list(self.registry.schemas())
        if output_type is not None and not native:
            schemas.append(answer_tool(output_type))
        bound: Runnable[Any, BaseMessage] = model
        if schemas:
            try:
                bound = model.bind_tools(schemas, tool_choice=choice)
            except NotImplementedError as error:
                raise ConfigError(
                    f"model {model_name(model)!r} does not support tool calling",
                    "use a chat model that implements bind_tools",
                ) from error
        if native and output_type is not None:
            # As extra body: given as response_format, langchain-openai switches to the
            # client's parse(), which refuses any tool not declared strict.
            bound = bound.bind(extra_body={"response_format": native_format(output_type)})
        if self.max_output_tokens:
            bound = bound.bind(max_tokens=self.max_output_tokens)
        self._bound[key] = (model, bound)
        return bound
