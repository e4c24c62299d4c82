"""The web page of ``podium serve``: its files, the eval reports, and the security headers.

Every response carries a Content-Security-Policy without inline scripts. The page is plain
JavaScript modules, CSS and one HTML file under ``server/web/``: nothing is built at install
time and nothing loads from elsewhere, so it works offline. The eval reports of ``--reports
DIR`` are listed and read, never written; a name that is not a plain ``*.html`` file
directly inside the directory answers 404.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response

from podium.errors import NotFound
from podium.server.limits import ASGIApp, Message, Receive, Scope, Send
from podium.server.service import Caller

WEB = Path(__file__).parent / "web"
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}
# No inline script, no other origin: whatever a tool or model wrote cannot run here.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# A report is shown as data: no script at all, its own inline styles only.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
REPORT_NAME = r"^[\w][\w.-]{0,200}\.html$"


class SecurityHeaders:
    """ASGI middleware: every HTTP response gets the page's CSP (unless it set its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {name.lower() for name, _ in headers}
                extra = [
                    (b"content-security-policy", PAGE_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                headers += [(name, value) for name, value in extra if name not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def page_routes(app: FastAPI, reports: Path | None = None) -> None:
    """``GET /`` (the page), ``GET /web/{file}``, ``GET /reports`` and ``/reports/{name}``."""
    files = {p.name: p for p in WEB.iterdir() if p.suffix in TYPES} if WEB.is_dir() else {}

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return _file(files, "index.html")

    @app.get("/web/{name}", include_in_schema=False)
    async def static(name: str) -> FileResponse:
        return _file(files, name)

    @app.get("/reports")
    async def listing(_: Caller) -> dict[str, Any]:
        """The eval reports of ``--reports DIR`` (HTML files), the newest first."""
        if reports is None:
            return {"configured": False, "reports": []}
        return {"configured": True, "reports": await asyncio.to_thread(_reports, reports)}

    @app.get("/reports/{name}")
    async def report(name: str, _: Caller) -> Response:
        """One report's HTML, to be shown as data (it may not run scripts)."""
        path = await asyncio.to_thread(_report_path, reports, name)
        return Response(
            await asyncio.to_thread(path.read_bytes),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": REPORT_POLICY, "Cache-Control": "no-store"},
        )


def _reports(directory: Path) -> list[dict[str, Any]]:
    root = directory.resolve()
    found = sorted(
        (p for p in root.glob("*.html") if _readable(root, p)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    return [
        {"name": p.name, "bytes": p.stat().st_size, "modified": p.stat().st_mtime} for p in found
    ]


def _file(files: dict[str, Path], name: str) -> FileResponse:
    path = files.get(name)
    if path is None:
        raise NotFound(f"no file {name!r} in the page", "open / for the page")
    return FileResponse(path, media_type=TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


def _report_name(name: str) -> bool:
    return re.fullmatch(REPORT_NAME, name) is not None


def _report_path(reports: Path | None, name: str) -> Path:
    """The report file ``name``, only when it is a plain file directly inside ``reports``."""
    unknown = NotFound(f"no report {name!r}", "see GET /reports for the reports there are")
    if reports is None or not _report_name(name):
        raise unknown
    root = reports.resolve()
    path = root / name
    if not _readable(root, path):
        raise unknown
    return path


def _readable(root: Path, path: Path) -> bool:
    """A report's name, a plain file, inside ``root`` once resolved (no link leads out)."""
    return (
        _report_name(path.name)
        and not path.is_symlink()
        and path.is_file()
        and path.resolve().parent == root
    )
