"""Who is calling: bearer tokens from a file, and the rule that an open service stays local.

With tokens, every call but a bare ``/health`` needs ``Authorization: Bearer TOKEN`` and
acts as the principal the token names. Without tokens the service acts as one principal
(``--as``, else the local one) and refuses to listen beyond loopback.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from podium.errors import ConfigError, PodiumError
from podium.identity import Principal, check_principal_id

if TYPE_CHECKING:
    from podium.guardrails.policy import Policy
    from podium.server.limits import ASGIApp, Receive, Scope, Send

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MIN_TOKEN = 16


class Unauthenticated(PodiumError):
    """No token, or one the service does not know (HTTP 401)."""


def read_tokens(path: Path) -> dict[str, str]:
    """Bearer tokens from a file of ``TOKEN PRINCIPAL`` lines (# comments allowed)."""
    if not path.is_file():
        raise ConfigError(f"tokens file {path} does not exist", "check the path")
    tokens: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = f"{path}, line {number}"
        if len(words) != 2 or len(words[0]) < MIN_TOKEN:
            raise ConfigError(
                f"{where}: expected 'TOKEN PRINCIPAL' with a token of {MIN_TOKEN}+ characters",
                "write one token and one principal name per line",
            )
        token, principal = words
        if not token.isascii() or not token.isprintable():
            raise ConfigError(
                f"{where}: a token must be printable ASCII (HTTP headers carry no other)",
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe())'",
            )
        if token in tokens:
            raise ConfigError(f"{where}: this token is given twice", "give each its own token")
        check_principal_id(principal, where)
        tokens[token] = principal
    if not tokens:
        raise ConfigError(f"tokens file {path} lists no tokens", "add 'TOKEN PRINCIPAL' lines")
    return tokens


def check_exposure(host: str, tokens: dict[str, str] | None) -> None:
    """Refuse to listen beyond loopback without tokens: anyone could act as the agent."""
    if host not in LOOPBACK and not tokens:
        raise ConfigError(
            f"serving on {host} without tokens lets anyone on the network run the agent",
            "pass --tokens FILE (lines of 'TOKEN PRINCIPAL'), or listen on 127.0.0.1",
        )


@dataclass
class Gate:
    """Turns a request's Authorization header into the principal it acts as."""

    policy: Policy
    tokens: dict[str, str] | None = None
    principal: Principal | None = None  # the service's own, when no tokens are set

    def check(self) -> None:
        """Every principal a token names must be in the policy (checked at start)."""
        for name in (self.tokens or {}).values():
            self.policy.principal(name)

    def caller(self, authorization: str | None) -> Principal:
        """The token's principal, or the service's own when no tokens are configured."""
        if not self.tokens:
            return self.principal or Principal.local()
        scheme, _, given = (authorization or "").partition(" ")
        # Headers arrive as latin-1 text: compare bytes, so that any character is merely
        # wrong, never an error, and in constant time for every known token.
        offered = given.strip().encode("utf-8", "surrogateescape")
        name = None
        for token, principal in self.tokens.items():
            if hmac.compare_digest(token.encode(), offered):
                name = principal
        if scheme.lower() != "bearer" or name is None:
            raise Unauthenticated(
                "missing or unknown bearer token", "send Authorization: Bearer TOKEN"
            )
        return self.policy.principal(name)

    def authenticated(self, authorization: str | None) -> bool:
        """Whether the header would pass (without raising)."""
        try:
            self.caller(authorization)
        except Unauthenticated:
            return False
        return True


class BearerOnly:
    """ASGI middleware: with tokens, no request under ``prefix`` without a known one passes.

    For apps that are not podium's routes (an MCP or A2A layer): they never see a request
    whose token the gate does not know, which gets 401 in podium's error shape.
    """

    def __init__(self, app: ASGIApp, gate: Gate, prefix: str = "") -> None:
        self.app, self.gate, self.prefix = app, gate, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 401 in podium's error shape, or pass the request on."""
        guarded = scope["type"] == "http" and str(scope.get("path", "")).startswith(self.prefix)
        if guarded and self.gate.tokens:
            given = [v for k, v in scope.get("headers") or [] if k.lower() == b"authorization"]
            header = given[0].decode("latin-1") if len(given) == 1 else ""
            try:  # two Authorization headers are none: the layer behind reads only one
                self.gate.caller(header)
            except Unauthenticated as error:
                body = json.dumps({"error": error.problem, "fix": error.fix}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b"Bearer"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
