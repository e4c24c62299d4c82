"""Model failures turned into one line a user can act on, and whether to try again.

The server's own message is read from the error's body (once: the client's wrappers repeat
it), the URL it was sent to is named when the server did not know it, and an answer that
says the request itself was invalid is never retried, whatever its status code.
"""

from __future__ import annotations

import re
from typing import Any

# By exception class name, so the openai package is not imported just to compare types.
_MODEL_FIXES = {
    "APIConnectionError": "check that OPENAI_BASE_URL points at a running server",
    "APITimeoutError": "the model server is slow or down; check it or raise PODIUM_MODEL_TIMEOUT",
    "AuthenticationError": "check OPENAI_API_KEY",
    "PermissionDeniedError": "check that OPENAI_API_KEY may use this model",
    "RateLimitError": "the server kept rate-limiting after retries; wait, or lower concurrency",
    "InternalServerError": "the model server failed; try again later",
    "JSONDecodeError": (
        "the server's answer was not JSON: check that OPENAI_BASE_URL is an "
        "OpenAI-compatible API (it usually ends in /v1), not a web page"
    ),
    "ModelOutputError": "the server's answer was not a chat completion; check the server",
}
_INVALID_FIX = (
    "the server refused the request itself, so trying again cannot help: check that it "
    "supports tool calling with this model (and its chat template), or report what it says"
)
# Worth another try: the server was busy, slow, briefly unreachable, or answered garbage.
_TRANSIENT = frozenset(
    {
        "RateLimitError",
        "APIConnectionError",
        "APITimeoutError",
        "InternalServerError",
        "OutputParserException",
        "JSONDecodeError",
        "ModelOutputError",
    }
)
# What servers say when the request does not validate (pydantic, FastAPI, llama.cpp, vLLM).
_INVALID = re.compile(
    r"validation error|input should be|field required|value is not a valid|"
    r"unprocessable|invalid request|is not of type|must be a string|extra inputs are not",
    re.IGNORECASE,
)


class ModelOutputError(Exception):
    """The server answered 200 with something that is no usable chat completion."""


def _names(error: BaseException) -> list[str]:
    return [k.__name__ for k in type(error).__mro__]


def _status(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def _server_message(error: BaseException) -> str:
    """What the server said, from the body the client parsed, else the error's text."""
    body: Any = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return " ".join(str(message).split())
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text.rstrip(".")


def _url(error: BaseException) -> str:
    request = getattr(error, "request", None)
    return str(getattr(request, "url", "") or "")


def is_invalid_request(error: BaseException) -> bool:
    """Whether the server said the request itself was invalid (never worth a retry)."""
    status = _status(error)
    if status in (400, 422):
        return True
    return status is not None and status >= 400 and bool(_INVALID.search(_server_message(error)))


def is_transient(error: BaseException) -> bool:
    """Whether a failed model call may succeed if tried again."""
    if is_invalid_request(error):
        return False
    return any(name in _TRANSIENT for name in _names(error))


def describe_model_error(error: BaseException) -> str:
    """A one-line description of a failed model call, with the fix when known."""
    names = _names(error)
    status = _status(error)
    message = _server_message(error)
    prefix = f"HTTP {status}: " if status else ""
    if status == 404:
        url = _url(error)
        where = f" at {url}" if url else ""
        return (
            f"the model call failed: the server has no such endpoint or model{where} "
            f"({prefix}{message}) (fix: check that OPENAI_BASE_URL ends with /v1, e.g. "
            "http://localhost:8080/v1, and that PODIUM_MODEL names a model it serves: GET "
            f"<base>/models lists them)"
        )
    if is_invalid_request(error):
        return (
            f"the model call failed: the server rejected the request as invalid "
            f"({prefix}{message}) (fix: {_INVALID_FIX})"
        )
    fix = next((_MODEL_FIXES[name] for name in names if name in _MODEL_FIXES), None)
    shown = f"{type(error).__name__}: {prefix}{message}"
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    detail = str(root).splitlines()[0][:200] if root is not error and str(root) else ""
    if detail and detail not in shown and message not in detail:
        shown += f" ({type(root).__name__}: {detail})"
    return f"the model call failed: {shown}" + (f" (fix: {fix})" if fix else "")
