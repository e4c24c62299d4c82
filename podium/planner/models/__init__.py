"""Chat models that drive the planner: any LangChain chat model, chosen from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.config import Settings
from podium.errors import ConfigError
from podium.planner.budget import CONTEXT_WINDOWS, context_window

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from podium.memory.embeddings import Embedder


def resolve_model(settings: Settings, embedder: Embedder | None = None) -> BaseChatModel:
    """The configured chat model, or the offline router model when none is configured.

    The router routes semantically with ``embedder`` when one is given (the memory's).
    ``PODIUM_MODEL=plugin:NAME`` builds the model a ``podium.models`` plugin publishes.
    """
    if settings.model and settings.model.startswith("plugin:"):
        from podium import plugins

        return plugins.model(settings.model.removeprefix("plugin:"), settings)
    if settings.uses_router:
        from podium.planner.router import RouterChatModel

        return RouterChatModel(embedder=embedder)
    from podium.planner.models.openai import openai_chat_model

    return openai_chat_model(settings)


def model_name(model: BaseChatModel) -> str:
    """A chat model's name as pricing and reports know it."""
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def context_window_of(model: BaseChatModel, settings: Settings) -> int:
    """Tokens the model takes in: set, known, said by its server, else required."""
    name = model_name(model)
    if settings.context_window or name in CONTEXT_WINDOWS or not settings.openai_base_url:
        return context_window(name, settings.context_window)
    if type(model).__name__ != "CompatibleChatOpenAI":
        return context_window(name, None)  # a model given as an object: its own business
    import httpx

    from podium.planner.models.openai import served_context

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    try:
        served = served_context(settings.openai_base_url, name, key)
    except httpx.ConnectError:  # nothing listens yet: a run will say so, with the fix
        return context_window(name, None)
    if served is None:
        raise ConfigError(
            f"the server at {settings.openai_base_url} does not say how many tokens model "
            f"{name!r} takes in, and the default of 128k would overflow most local servers",
            "set PODIUM_CONTEXT_WINDOW to the server's context size (llama.cpp --ctx-size, "
            "vLLM --max-model-len, Ollama num_ctx)",
        )
    return served
