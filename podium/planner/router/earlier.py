"""A follow-up that works on the previous answer: "now divide that by 4" after "12 * 12".

The offline router reads one request at a time. A request that points back ("that", "it",
"the result") and is arithmetic once the pointer is the previous turn's number is read as
that arithmetic: "now divide that by 4" becomes "144 / 4" (not a clock reading for "now").
Anything else is left as it was written: the router does not guess what "that" means.
"""

from __future__ import annotations

import re

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from podium.planner.prompts import unspotlight
from podium.tools.plain_math import symbolic

_POINTER = re.compile(r"\b(?:that|it|this|the (?:result|answer|number|total))\b", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _previous_number(messages: list[BaseMessage], before: int) -> str | None:
    """The number the latest tool result before index ``before`` holds, if it is one number."""
    for message in reversed(messages[:before]):
        if isinstance(message, HumanMessage) and message.name != "guard":
            continue  # an earlier request: look further back for its result
        if isinstance(message, ToolMessage):
            text = unspotlight(str(message.content)).strip()
            return text if _NUMBER.fullmatch(text) else None
    return None


def with_previous_result(
    request: str, messages: list[BaseMessage], at: int
) -> tuple[str, str | None]:
    """``request`` as arithmetic on the previous result, when it points to one; else as is.

    The second value is the pointer the request used when it is arithmetic on a result but
    no earlier result of the thread is a number: the router then says so instead of
    planning the words that are left ("now" would read the clock).
    """
    pointers = _POINTER.findall(request)
    if len(pointers) != 1 or symbolic(_POINTER.sub("1", request, count=1)) is None:
        return request, None
    number = _previous_number(messages, at)
    if number is None:
        return request, pointers[0]
    return symbolic(_POINTER.sub(number, request, count=1)) or request, None


def unresolved_answer(pointer: str) -> str:
    """What the router says when a request works on an earlier result there is not."""
    return (
        f"I could not tell what {pointer!r} refers to: no earlier result in this thread is "
        "a number. Please say the number."
    )
