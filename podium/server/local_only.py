"""LocalOnly: an open service (no tokens) answers the local machine's own pages only.

Without tokens ``podium serve`` listens on loopback, but the browser of the person at the
machine can still be made to call it by any site they visit: a form or a ``no-cors`` fetch
posts cross-site without asking (it fires events, decides calls), and a site whose name
resolves to 127.0.0.1 (DNS rebinding) is same-origin with the service and reads every
answer. So an open service serves only requests addressed to a loopback name (the Host
header) and sent from no other site (the Origin and Sec-Fetch-Site headers browsers add).
With tokens neither attack has the token to send, and this gate is not installed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from podium.server.limits import refuse

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class LocalOnly:
    """ASGI middleware: refuse (403) a request for another host name or from another site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 403 naming what was not local."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope.get("headers") or []}
        problem = _not_local(headers)
        if problem is None:
            await self.app(scope, receive, send)
            return
        fix = "open the page from http://127.0.0.1:PORT, or start podium serve with --tokens to "
        await refuse(send, 403, problem, fix + "serve other host names and sites")


def _not_local(headers: dict[bytes, bytes]) -> str | None:
    """What makes a request not the local machine's own (None: it is)."""
    host = headers.get(b"host", b"").decode("latin-1")
    if _hostname(f"//{host}") not in LOOPBACK:
        return f"an open service answers requests for this machine only, not host {host[:80]!r}"
    origin = headers.get(b"origin", b"").decode("latin-1")
    if origin and _hostname(origin) not in LOOPBACK:
        return f"an open service answers this machine's pages only, not a page of {origin[:80]!r}"
    if headers.get(b"sec-fetch-site") == b"cross-site":
        return "an open service answers this machine's pages only, not another site's"
    return None


def _hostname(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # a malformed Host or Origin ("[", a bad port) is no loopback name
        return ""
