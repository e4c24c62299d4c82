"""OpenAI and any OpenAI-compatible server (vLLM, Ollama, llama.cpp) through langchain-openai."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.config import Settings
from podium.errors import ConfigError

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


def openai_chat_model(settings: Settings, model: str | None = None) -> ChatOpenAI:
    """Build ChatOpenAI from settings: PODIUM_MODEL, OPENAI_API_KEY, OPENAI_BASE_URL.

    The client does not retry by itself: the planner retries transient failures, so that
    each retry is traced and counts against the run's time limit.
    """
    from langchain_openai import ChatOpenAI

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if key is None and not settings.openai_base_url:
        raise ConfigError(
            f"model {settings.model!r} needs OPENAI_API_KEY or OPENAI_BASE_URL",
            "set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server), or unset PODIUM_MODEL "
            "to use the offline router model",
        )
    return ChatOpenAI(
        model=model or settings.model or DEFAULT_OPENAI_MODEL,
        # Local OpenAI-compatible servers accept any key; the client insists on one.
        api_key=key or "not-needed",
        base_url=settings.openai_base_url,
        timeout=settings.model_timeout,
        max_retries=0,
        stream_usage=True,
    )
