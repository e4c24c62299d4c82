"""OpenAI and any OpenAI-compatible server (vLLM, Ollama, llama.cpp) through langchain-openai."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.outputs import ChatResult
from langchain_openai import ChatOpenAI

from podium.config import Settings
from podium.errors import ConfigError
from podium.planner.failures import ModelOutputError

if TYPE_CHECKING:
    import openai

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


class CompatibleChatOpenAI(ChatOpenAI):
    """ChatOpenAI that sends what every OpenAI-compatible server accepts, and reads theirs.

    Out: an assistant turn that only calls tools carries ``"content": ""``, not ``null``
    (allowed by OpenAI, refused with HTTP 500 by llama-cpp-python's server on every second
    round). In: tool arguments sent as an object instead of a JSON string are taken as
    given; an answer without choices is a ModelOutputError (retried), not an IndexError.
    """

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
        for message in payload.get("messages", []):
            if message.get("role") == "assistant" and message.get("content") is None:
                message["content"] = ""
        if "max_completion_tokens" in payload and not _is_openai(self.openai_api_base):
            payload["max_tokens"] = payload.pop("max_completion_tokens")  # what others read
        return payload

    def _create_chat_result(
        self,
        response: dict[str, Any] | openai.BaseModel,
        generation_info: dict[str, Any] | None = None,
    ) -> ChatResult:
        data = response if isinstance(response, dict) else None
        if data is None and hasattr(response, "model_dump"):
            data = response.model_dump(warnings=False)
        if isinstance(data, dict) and not data.get("error"):
            choices = data.get("choices")
            if not choices:
                raise ModelOutputError('the server\'s answer held no choices ("choices": [])')
            for choice in choices:
                for call in (choice.get("message") or {}).get("tool_calls") or []:
                    function = call.get("function") or {}
                    if isinstance(function.get("arguments"), dict):
                        function["arguments"] = json.dumps(function["arguments"])
            response = data
        return super()._create_chat_result(response, generation_info)


def _is_openai(base_url: str | None) -> bool:
    return base_url is None or "api.openai.com" in base_url


def openai_chat_model(settings: Settings, model: str | None = None) -> ChatOpenAI:
    """Build the chat model from settings: PODIUM_MODEL, OPENAI_API_KEY, OPENAI_BASE_URL.

    The client does not retry by itself: the planner retries transient failures, so that
    each retry is traced and counts against the run's time limit.
    """
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if key is None and not settings.openai_base_url:
        raise ConfigError(
            f"model {settings.model!r} needs OPENAI_API_KEY or OPENAI_BASE_URL",
            "set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server), or unset PODIUM_MODEL "
            "to use the offline router model",
        )
    if model is None and settings.model is None and settings.openai_base_url:
        model = served_model(settings.openai_base_url, key)
    return CompatibleChatOpenAI(
        model=model or settings.model or DEFAULT_OPENAI_MODEL,
        # Local OpenAI-compatible servers accept any key; the client insists on one.
        api_key=key or "not-needed",
        base_url=settings.openai_base_url,
        timeout=settings.model_timeout,
        max_retries=0,
        stream_usage=True,
    )


def served_context(base_url: str, model: str, key: str | None) -> int | None:
    """How many tokens ``model`` takes in, as the server says it, or None if it does not.

    vLLM lists ``max_model_len`` with each model (GET <base>/models); llama.cpp's server
    gives ``n_ctx`` in GET /props. A server that says neither leaves it to the setting.
    """
    import httpx

    headers = {"Authorization": f"Bearer {key or 'not-needed'}"}
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        listed = httpx.get(base_url.rstrip("/") + "/models", headers=headers, timeout=10)
        for entry in listed.json().get("data", []) if listed.is_success else []:
            if entry.get("id") == model and isinstance(entry.get("max_model_len"), int):
                return int(entry["max_model_len"])
        props = httpx.get(root + "/props", headers=headers, timeout=10)
        if props.is_success:
            settings = props.json().get("default_generation_settings") or {}
            n_ctx = settings.get("n_ctx") or props.json().get("n_ctx")
            if isinstance(n_ctx, int) and n_ctx > 0:
                return n_ctx
    except httpx.ConnectError:
        raise  # nothing listens there: the caller decides
    except (httpx.HTTPError, ValueError, AttributeError, TypeError):
        return None
    return None


def served_model(base_url: str, key: str | None) -> str:
    """The one model a server lists (GET <base>/models); a ConfigError naming them if not one.

    With OPENAI_BASE_URL set and PODIUM_MODEL unset, asking a local server for OpenAI's
    default model name would fail, or run another model than the user thinks.
    """
    import httpx

    url = base_url.rstrip("/") + "/models"
    try:
        answer = httpx.get(
            url, headers={"Authorization": f"Bearer {key or 'not-needed'}"}, timeout=10
        )
        answer.raise_for_status()
        names = [str(m["id"]) for m in answer.json().get("data", []) if m.get("id")]
    except (httpx.HTTPError, ValueError, KeyError, AttributeError, TypeError) as error:
        raise ConfigError(
            f"PODIUM_MODEL is unset and the server at {url} did not list its models ({error})",
            "set PODIUM_MODEL to the model's name, or check that OPENAI_BASE_URL ends with /v1",
        ) from None
    if len(names) != 1:
        listed = ", ".join(names[:20]) or "none"
        raise ConfigError(
            f"PODIUM_MODEL is unset and the server at {base_url} serves {len(names)} models: "
            f"{listed}",
            "set PODIUM_MODEL to one of them",
        )
    return names[0]
