"""Tools from MCP servers (stdio or streamable HTTP) that join a registry like any other.

An ``MCPServer`` keeps one connection open on an event loop of its own (a daemon thread), so
its tools work from any run, sync or async, and calls from one round overlap. A server that
dies mid-call fails that call (the planner gets a tool message); the next call reconnects.
The tools carry the server's own schemas and pass the same guards and policy as the rest.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from podium.errors import ConfigError
from podium.tools.registry import Risk, Tool
from podium.tools.schemas import arguments_model, given_arguments

if TYPE_CHECKING:
    from mcp import Client
    from mcp.types import CallToolResult
    from mcp.types import Tool as MCPTool

MCP_TAG = "mcp"


class MCPToolError(RuntimeError):
    """The server ran the tool and reported an error, or the connection failed mid-call."""


@dataclass
class MCPServer:
    """One MCP server: a URL (streamable HTTP) or a command line (stdio).

    ``prefix`` is put before each tool's name (``prefix_tool``) so two servers' tools cannot
    clash; ``include`` keeps only the named tools; ``scopes`` are required to call any of
    them (policy files may set more per tool).
    """

    target: str
    name: str = ""
    prefix: str = ""
    include: Iterable[str] | None = None
    scopes: Iterable[str] = ()
    timeout: float = 30.0
    connect_timeout: float = 20.0
    env: dict[str, str] | None = None
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)
    _client: Client | None = field(default=None, init=False, repr=False)
    _session: Future[None] | None = field(default=None, init=False, repr=False)
    _closing: asyncio.Event | None = field(default=None, init=False, repr=False)
    _listed: list[MCPTool] = field(default_factory=list, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.target.strip():
            raise ConfigError(
                "an MCP server needs a URL or a command", "pass one, e.g. 'python srv.py'"
            )
        self.name = self.name or _short_name(self.target)
        try:
            import mcp  # noqa: F401
        except ImportError as error:
            raise ConfigError(
                "MCP tools need the mcp package", "pip install 'podium[mcp]'"
            ) from error

    # -- connection -------------------------------------------------------------------------

    def _server_spec(self) -> Any:
        if self.target.startswith(("http://", "https://")):
            return self.target
        from mcp import StdioServerParameters, stdio_client

        command, *args = shlex.split(self.target)
        return stdio_client(
            StdioServerParameters(command=command, args=args, env=self.env), errlog=_errlog()
        )

    def _start_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name=f"mcp-{self.name}", daemon=True).start()
            self._loop = loop
        return self._loop

    def _live(self) -> Client | None:
        """The client, while its connection holds."""
        held = self._session is not None and not self._session.done()
        return self._client if held else None

    def _connected(self) -> Client:
        """The live client, connecting (again) if there is none."""
        with self._lock:
            if (client := self._live()) is not None:
                return client
            loop = self._start_loop()
            ready: Future[Client] = Future()
            self._session = asyncio.run_coroutine_threadsafe(self._hold(ready), loop)
            try:
                self._client = ready.result(timeout=self.connect_timeout)
            except Exception as error:
                self._session.cancel()
                raise ConfigError(
                    f"cannot connect to MCP server {self.name!r} ({self.target}): "
                    f"{_describe(error)}",
                    "check that the command runs or the URL answers, then try again",
                ) from error
            return self._client

    async def _hold(self, ready: Future[Client]) -> None:
        """Open the connection and keep it open (in one task, as anyio requires) until closed."""
        from mcp import Client

        self._closing = asyncio.Event()
        try:
            async with Client(self._server_spec(), read_timeout_seconds=self.timeout) as client:
                ready.set_result(client)
                await self._closing.wait()
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error)
            raise

    def tools(self) -> list[Tool]:
        """The server's tools as podium tools (listed once per connection)."""
        client = self._connected()
        assert self._loop is not None
        if not self._listed:
            listing = asyncio.run_coroutine_threadsafe(client.list_tools(), self._loop)
            self._listed = list(listing.result(timeout=self.connect_timeout).tools)
        wanted = set(self.include) if self.include is not None else None
        if wanted is not None:
            unknown = sorted(wanted - {t.name for t in self._listed})
            if unknown:
                raise ConfigError(
                    f"MCP server {self.name!r} has no tool {', '.join(unknown)}",
                    f"it offers: {', '.join(t.name for t in self._listed)}",
                )
        return [self._tool(t) for t in self._listed if wanted is None or t.name in wanted]

    def close(self) -> None:
        """Close the connection (a stdio server's process ends with it) and stop the loop."""
        loop, closing = self._loop, self._closing
        if loop is None:
            return
        if closing is not None:
            loop.call_soon_threadsafe(closing.set)
        if self._session is not None:
            try:
                self._session.result(timeout=5)
            except Exception:  # it failed already; nothing is left open
                pass
        loop.call_soon_threadsafe(loop.stop)
        self._loop = self._client = self._session = None
        self._listed = []

    def __enter__(self) -> MCPServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- calls ------------------------------------------------------------------------------

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """Call ``tool`` on the server; its error or a broken connection raises MCPToolError."""
        client = self._live()
        if client is None:  # (re)connecting blocks: off the event loop
            client = await asyncio.to_thread(self._connected)
        assert self._loop is not None
        pending = asyncio.run_coroutine_threadsafe(client.call_tool(tool, arguments), self._loop)
        try:
            result = await asyncio.wrap_future(pending)
        except asyncio.CancelledError:
            pending.cancel()
            raise
        except Exception as error:
            self._drop()
            raise MCPToolError(
                f"MCP server {self.name!r} failed during {tool}: {_describe(error)}"
            ) from error
        if self._session is not None and self._session.done():
            self._drop()
        return _result_value(tool, result)

    def _drop(self) -> None:
        """Forget a connection that broke; the next call opens a new one."""
        with self._lock:
            if self._session is not None and not self._session.done():
                self._session.cancel()
            self._client = None

    def _tool(self, listed: MCPTool) -> Tool:
        remote = listed.name
        name = f"{self.prefix}_{remote}" if self.prefix else remote
        schema = dict(listed.input_schema or {"type": "object", "properties": {}})
        arguments = arguments_model(name, schema)
        notes = listed.annotations
        read_only = bool(notes and notes.read_only_hint)
        destructive = bool(notes and notes.destructive_hint)
        risk: Risk = "low" if read_only else "high" if destructive else "medium"

        async def call(**values: Any) -> Any:
            return await self.call(remote, given_arguments(arguments, values))

        return Tool(
            name=name,
            description=listed.description or listed.title or remote,
            function=call,
            arguments=arguments,
            risk=risk,
            scopes=frozenset(self.scopes),
            timeout=self.timeout,
            side_effects=not read_only,
            tags=frozenset({MCP_TAG, f"mcp:{self.name}"}),
            repeatable=read_only or bool(notes and notes.idempotent_hint),
            json_schema=schema,
        )


def mcp_tools(*targets: str | MCPServer) -> list[Tool]:
    """The tools of every server named (URLs or command lines), connected now."""
    found: list[Tool] = []
    for target in targets:
        server = target if isinstance(target, MCPServer) else MCPServer(target)
        found.extend(server.tools())
    return found


def _result_value(tool: str, result: CallToolResult) -> Any:
    texts = [_content_text(block) for block in result.content]
    if result.is_error:
        raise MCPToolError(" ".join(texts) or f"{tool} failed (the server gave no reason)")
    structured = result.structured_content
    if isinstance(structured, dict) and list(structured) == ["result"]:
        return structured["result"]  # a plain return value, wrapped by the server's SDK
    if structured is not None:
        return structured
    return texts[0] if len(texts) == 1 else "\n".join(texts)


def _content_text(block: Any) -> str:
    text = getattr(block, "text", None)
    if isinstance(text, str):
        return text
    kind = getattr(block, "type", "content")
    mime = getattr(block, "mime_type", None)
    return f"[{kind}{' ' + mime if mime else ''} omitted]"


def _describe(error: BaseException) -> str:
    """The innermost useful message (anyio wraps failures in exception groups)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _errlog() -> TextIO:
    """Where a stdio server's own messages go: our stderr, or nowhere if it is not a file."""
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return open(os.devnull, "w")  # the server process keeps it for its lifetime
    return sys.stderr


def _short_name(target: str) -> str:
    if target.startswith(("http://", "https://")):
        return target.split("//", 1)[1].split("/", 1)[0]
    words = shlex.split(target)
    return words[-1].rsplit("/", 1)[-1] if words else "mcp"
