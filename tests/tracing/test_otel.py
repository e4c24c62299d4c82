"""OpenTelemetry export: GenAI-convention spans, real OTLP/HTTP, and a dead endpoint."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from podium.agent import Agent
from podium.config import Settings
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool
from podium.tracing.otel import OTelSink


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def script() -> ScriptedChatModel:
    return ScriptedChatModel(turns=[calls(call("add", "c1", a=1, b=2)), "3"])


def test_spans_follow_the_genai_conventions() -> None:
    exporter = InMemorySpanExporter()
    sink = OTelSink(exporter)
    result = Agent([add], model=script(), sinks=[sink]).invoke("add", thread_id="thread-9")
    sink.provider.force_flush()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"invoke_agent podium", "chat scripted", "execute_tool add"}
    root, chat, tool_span = (
        spans[n] for n in ("invoke_agent podium", "chat scripted", "execute_tool add")
    )
    assert root.attributes is not None and chat.attributes is not None
    assert tool_span.attributes is not None
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.conversation.id"] == "thread-9"
    assert root.attributes["podium.trace_id"] == result.trace_id
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert tool_span.attributes["gen_ai.tool.name"] == "add"
    assert tool_span.attributes["gen_ai.tool.call.id"] == "c1"
    for child in (chat, tool_span):
        assert child.parent is not None and root.context is not None
        assert child.parent.span_id == root.context.span_id
    assert {e.name for e in root.events} >= {"podium.guard", "podium.policy"}


@contextmanager
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_spans_reach_an_otlp_http_endpoint() -> None:
    with collector() as (url, received):
        agent = Agent([add], model=script(), settings=Settings.load(otlp_endpoint=url))
        agent.invoke("add")
        exporter = agent.standard_sinks.otel
        assert exporter is not None
        exporter.provider.force_flush()
    assert received and received[0][0] == "/v1/traces"
    request = ExportTraceServiceRequest.FromString(received[0][1])
    names = {s.name for r in request.resource_spans for ss in r.scope_spans for s in ss.spans}
    assert names == {"invoke_agent podium", "chat scripted", "execute_tool add"}


def test_a_dead_endpoint_does_not_hold_up_runs() -> None:
    settings = Settings.load(otlp_endpoint="http://127.0.0.1:9")  # nothing listens there
    agent = Agent([add], model=ScriptedChatModel(turns=["ok"], repeat_last=True), settings=settings)
    results = [agent.invoke("hi") for _ in range(5)]
    assert all(r.ok for r in results)
    assert max(r.usage.latency_ms for r in results) < 2000  # export happens off the run's path
