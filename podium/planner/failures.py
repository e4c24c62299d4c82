"""Model failures turned into one line a user can act on."""

from __future__ import annotations

# By exception class name, so the openai package is not imported just to compare types.
_MODEL_FIXES = {
    "APIConnectionError": "check that OPENAI_BASE_URL points at a running server",
    "APITimeoutError": "the model server is slow or down; check it or raise PODIUM_MODEL_TIMEOUT",
    "AuthenticationError": "check OPENAI_API_KEY",
    "PermissionDeniedError": "check that OPENAI_API_KEY may use this model",
    "NotFoundError": "check PODIUM_MODEL names a model the server serves",
    "RateLimitError": "the server kept rate-limiting after retries; wait, or lower concurrency",
    "BadRequestError": "the server rejected the request; see the message above",
    "InternalServerError": "the model server failed; try again later",
}


def describe_model_error(error: BaseException) -> str:
    """A one-line description of a failed model call, with the fix when known."""
    name = type(error).__name__
    message = str(error).splitlines()[0].rstrip(".") if str(error) else name
    # Wrappers (langchain-openai's OpenAIConnectionError) subclass the openai error they wrap.
    fix = next(
        (_MODEL_FIXES[k.__name__] for k in type(error).__mro__ if k.__name__ in _MODEL_FIXES), None
    )
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    if root is not error:  # the client's message is generic; the root cause says what happened
        detail = str(root).splitlines()[0][:200] if str(root) else ""
        message += f" ({type(root).__name__}: {detail})" if detail else f" ({type(root).__name__})"
    return f"the model call failed: {name}: {message}" + (f" (fix: {fix})" if fix else "")


# Worth another try: the server was busy, slow, briefly unreachable, or answered garbage.
_TRANSIENT = frozenset(
    {
        "RateLimitError",
        "APIConnectionError",
        "APITimeoutError",
        "InternalServerError",
        "OutputParserException",
    }
)


def is_transient(error: BaseException) -> bool:
    """Whether a failed model call may succeed if tried again."""
    return any(k.__name__ in _TRANSIENT for k in type(error).__mro__)
