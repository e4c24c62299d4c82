"""Chat models that drive the planner: any LangChain chat model, chosen from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.config import Settings

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
