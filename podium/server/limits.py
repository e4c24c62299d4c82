"""A bound on request bodies, enforced before anything reads them (before authentication too).

A declared ``Content-Length`` over the bound is refused at once; a body sent in chunks is
counted as it arrives and refused when it passes the bound. Either way: HTTP 413.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1_000_000


class BodyLimit:
    """ASGI middleware: no request body over ``max_bytes`` reaches the app."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 when its body is over the bound."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        answered = False  # once refused, nothing the app sends goes out

        async def counted() -> Message:
            nonlocal received, answered
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes and not answered:
                    answered = True
                    await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not answered:
                await send(message)

        await self.app(scope, counted, guarded)

    async def _refuse(self, send: Send) -> None:
        await refuse(
            send,
            413,
            f"the request body is larger than {self.max_bytes} bytes",
            "send a shorter request; put long material in a file the agent can read",
            close=True,
        )


async def refuse(send: Send, status: int, problem: str, fix: str, close: bool = False) -> None:
    """Answer from a middleware, in the service's one error shape."""
    body = json.dumps({"error": problem, "fix": fix}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"connection", b"close")] if close else headers,
        }
    )
    await send({"type": "http.response.body", "body": body})
