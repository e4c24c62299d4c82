"""A loopback OpenAI-compatible chat server that answers from a script (for recording cassettes).

It speaks the documented /v1/chat/completions shapes: tool calls, usage, errors with status.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def completion(
    content: str | None = None,
    tool_calls: list[tuple[str, str, str]] | None = None,
    prompt_tokens: int = 50,
    completion_tokens: int = 10,
) -> dict[str, Any]:
    """A chat.completion body; tool_calls are (id, name, raw JSON arguments)."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
            for i, n, a in tool_calls
        ]
    return {
        "id": "chatcmpl-podium",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def chunks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The chunks a streaming server sends for ``payload`` (chat.completion.chunk shapes)."""
    choice = payload["choices"][0]
    message = choice["message"]
    base = {"id": payload["id"], "object": "chat.completion.chunk", "created": payload["created"]}
    base["model"] = payload["model"]
    words = (message.get("content") or "").split(" ")
    out = [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": word if n == 0 else " " + word},
                    "finish_reason": None,
                }
            ],
        }
        for n, word in enumerate(words)
        if message.get("content")
    ]
    for index, call in enumerate(message.get("tool_calls") or []):
        delta = {"tool_calls": [{"index": index, **call}]}
        out.append({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    out.append(
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]}
    )
    out.append({**base, "choices": [], "usage": payload["usage"]})
    return out


def rate_limited() -> tuple[int, dict[str, Any]]:
    """OpenAI's 429 error body."""
    return 429, {
        "error": {
            "message": "Rate limit reached for requests",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


@dataclass
class ScriptedServer:
    """Serves the scripted responses in order and keeps the request bodies it received."""

    responses: list[tuple[int, dict[str, Any] | bytes]]  # bytes: a raw (non-JSON) body
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    models: list[str] = field(default_factory=lambda: ["local-model"])  # GET /v1/models
    context: int | None = 8192  # GET /props, as llama.cpp's server says it (None: no /props)


@contextmanager
def serve(
    responses: Sequence[tuple[int, dict[str, Any] | bytes]],
    models: Sequence[str] = ("local-model",),
    context: int | None = 8192,
) -> Iterator[ScriptedServer]:
    """Run the server on a free loopback port for the duration of the block."""
    state = ScriptedServer(list(responses), models=list(models), context=context)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do: clients pool connections

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.requests.append(json.loads(body))
            status, payload = state.responses.pop(0) if state.responses else (500, {})
            if status == 200 and state.requests[-1].get("stream"):
                self._stream(payload)
                return
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            if status == 429:
                self.send_header("retry-after-ms", "10")
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, payload: dict[str, Any] | bytes) -> None:
            """A chat.completion sent as server-sent chunks: its text a word at a time.

            Bytes are sent as the event stream as they are (malformed chunks, say).
            """
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")
            self.end_headers()
            if isinstance(payload, bytes):
                self.wfile.write(payload)
            else:
                for chunk in chunks(payload):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
            self.close_connection = True

        def do_GET(self) -> None:
            # The model list (OpenAI's shape) and llama.cpp's /props with its context size.
            if self.path.endswith("/models"):
                body: dict[str, Any] = {
                    "object": "list",
                    "data": [{"id": m, "object": "model"} for m in state.models],
                }
            elif self.path.endswith("/props") and state.context is not None:
                body = {"default_generation_settings": {"n_ctx": state.context}}
            else:
                body = {}
            data = json.dumps(body).encode()
            self.send_response(200 if body else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
