"""What a caller passes to a run, checked before anything runs: text, thread, principal, choice.

Each check names what was wrong and what to pass instead (an InvalidRequest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from podium.errors import InvalidRequest
from podium.identity import Principal
from podium.located import suggest

if TYPE_CHECKING:
    from podium.planner.budget import TokenCounter

TOOL_CHOICES = ("auto", "required", "none")


def check_text(text: str, what: str) -> None:
    """Refuse text no store could keep: a NUL (Postgres text), invalid Unicode (a surrogate)."""
    if "\x00" in text:
        raise InvalidRequest(
            f"{what} holds a NUL character (\\x00) at position {text.index(chr(0))}",
            "remove it: a NUL is no text, and the database cannot store it",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidRequest(
            f"{what} holds a character that is not valid Unicode at position {error.start}",
            "send UTF-8 text (a lone surrogate such as \\udfff is not a character)",
        ) from None


def check_reasons(decisions: Mapping[str, object]) -> None:
    """Refuse a decision whose call id or reason no store could keep (see ``check_text``)."""
    for call, decision in decisions.items():
        check_text(call, f"the call id {call[:40]!r} of a decision")
        reason = getattr(decision, "reason", "")
        if isinstance(reason, str):
            check_text(reason, f"the reason given for call {call[:40]!r}")


def thread_given(thread_id: object) -> str:
    """A thread id as given, checked: text of 1 to 512 characters."""
    if not isinstance(thread_id, str) or not 0 < len(thread_id) <= 512:
        shown = type(thread_id).__name__ if not isinstance(thread_id, str) else "empty or long"
        raise InvalidRequest(
            f"a thread id must be text of 1 to 512 characters (got {shown})",
            "pass thread_id as a short string, or leave it out for a new thread",
        )
    check_text(thread_id, "the thread id")
    return thread_id


def thread_named(thread_id: str, what: str = "thread id") -> str:
    """A thread id that every route can name again (to look at it, or decide its calls).

    A thread named otherwise (a space, a quote) could start and wait for approval, and then
    nobody could reach it: 1 to 200 letters, digits and . _ : / - (identity.THREAD_ID).
    """
    from podium.identity import THREAD_ID, valid

    if not valid(thread_id, THREAD_ID):
        raise InvalidRequest(
            f"{what} {thread_id[:60]!r} is not a thread id podium accepts",
            "use 1 to 200 letters, digits and . _ : / -",
        )
    return thread_id


def principal_given(principal: object) -> Principal | None:
    """The principal as given (None: the caller will pick a default), checked to be one."""
    if principal is None or isinstance(principal, Principal):
        return principal
    raise InvalidRequest(
        f"principal must be a Principal, not {type(principal).__name__}",
        "pass principal=Principal(id=...) or agent.policy.principal(name)",
    )


def tool_choice_for(choice: str, tools: Iterable[str]) -> str:
    """A run's tool choice, checked: ``auto``, ``required``, ``none`` or a registered tool."""
    names = set(tools)
    if choice in TOOL_CHOICES or choice in names:
        return choice
    raise InvalidRequest(
        f"tool_choice {choice!r} is neither auto, required, none nor a registered tool",
        suggest(choice, {*TOOL_CHOICES, *names}),
    )


def request_text(request: object) -> str:
    """The request, checked: text, not empty, valid Unicode (no model or counter needed)."""
    if not isinstance(request, str):
        raise InvalidRequest(
            f"the request must be text, not {type(request).__name__}",
            "pass the request as a string",
        )
    if not request.strip():
        raise InvalidRequest("the request is empty", "say what you want done")
    check_text(request, "the request")
    return request


def request_given(request: object, counter: TokenCounter, window: int) -> str:
    """The request, checked: text, not empty, valid Unicode, within half the context window."""
    request = request_text(request)
    if counter.at_most(request) <= window // 2:  # settled without loading the tokenizer
        return request
    tokens = counter.count(request)
    if tokens > window // 2:
        raise InvalidRequest(
            f"the request is {tokens} tokens, more than half of the model's context window "
            f"({window} tokens)",
            "shorten it, put long material in a file the agent can read, or use a model "
            "with a larger window",
        )
    return request
