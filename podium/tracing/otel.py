"""OpenTelemetry export of runs, with spans named and attributed per the GenAI conventions.

One ``invoke_agent podium`` span per run, a ``chat {model}`` span per model call, an
``execute_tool {tool}`` span per tool call, guard and policy decisions as span events. Spans
are built when the run finishes, from its events' times; the batch processor exports them
from its own thread through a bounded queue, so a slow or dead endpoint never slows a run.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from podium.tracing.events import (
    ApprovalDecided,
    ApprovalRequested,
    CircuitOpened,
    Compensated,
    Event,
    FallbackUsed,
    GuardDecided,
    ModelCalled,
    PolicyDecided,
    Retried,
    RunFinished,
    RunStarted,
    RunStopped,
    ToolCalled,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

AGENT_NAME = "podium"
QUEUE_SIZE = 2048


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


class OTelSink:
    """A tracer sink that turns each finished run into OpenTelemetry spans."""

    def __init__(self, exporter: SpanExporter) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.provider: TracerProvider = TracerProvider(
            resource=Resource.create({"service.name": AGENT_NAME})
        )
        self.provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=QUEUE_SIZE))
        self._tracer = self.provider.get_tracer("podium")
        self._runs: dict[str, list[Event]] = {}
        self._lock = threading.Lock()

    @classmethod
    def to_endpoint(cls, endpoint: str) -> OTelSink:
        """Export over OTLP/HTTP to ``endpoint`` (``/v1/traces`` is added when missing)."""
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url = (
            endpoint
            if endpoint.rstrip("/").endswith("/v1/traces")
            else (endpoint.rstrip("/") + "/v1/traces")
        )
        return cls(OTLPSpanExporter(endpoint=url, timeout=5))

    def __call__(self, event: Event) -> None:
        """Collect the run's events; on its last one, build and hand over its spans."""
        with self._lock:
            events = self._runs.setdefault(event.trace_id, [])
            events.append(event)
            if not isinstance(event, RunFinished):
                return
            del self._runs[event.trace_id]
        self._export(events)

    def _export(self, events: list[Event]) -> None:
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        started = next((e for e in events if isinstance(e, RunStarted)), None)
        finished = events[-1]
        assert isinstance(finished, RunFinished)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": AGENT_NAME,
            "gen_ai.request.model": finished.model,
            "gen_ai.usage.input_tokens": finished.input_tokens,
            "gen_ai.usage.output_tokens": finished.output_tokens,
            "podium.trace_id": finished.trace_id,
            "podium.stop_reason": finished.stop_reason,
            "podium.steps": finished.steps,
            "podium.cost_usd": finished.cost_usd,
        }
        if started is not None:
            attributes["gen_ai.conversation.id"] = started.thread_id
        root = self._tracer.start_span(
            f"invoke_agent {AGENT_NAME}",
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            start_time=_ns(started.time if started else finished.time),
        )
        context = trace.set_span_in_context(root)
        for event in events:
            self._child(event, root, context)
        if finished.stop_reason != "answered":
            root.set_status(Status(StatusCode.ERROR, finished.stop_reason))
        root.end(end_time=_ns(finished.time))

    def _child(self, event: Event, root: Any, context: Any) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        if isinstance(event, ModelCalled):
            span = self._tracer.start_span(
                f"chat {event.model}",
                context=context,
                kind=SpanKind.CLIENT,
                start_time=_ns(event.time - event.latency_ms / 1000),
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": event.model,
                    "gen_ai.usage.input_tokens": event.input_tokens,
                    "gen_ai.usage.output_tokens": event.output_tokens,
                    "podium.step": event.step,
                },
            )
            span.end(end_time=_ns(event.time))
        elif isinstance(event, ToolCalled):
            span = self._tracer.start_span(
                f"execute_tool {event.name}",
                context=context,
                kind=SpanKind.INTERNAL,
                start_time=_ns(event.time - event.duration_ms / 1000),
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": event.name,
                    "gen_ai.tool.call.id": event.call_id,
                    "podium.arguments_digest": event.arguments_digest,
                    "podium.status": event.status,
                },
            )
            if event.status != "ok":
                span.set_attribute("error.type", event.status)
                span.set_status(Status(StatusCode.ERROR, event.status))
            span.end(end_time=_ns(event.time))
        elif isinstance(
            event,
            GuardDecided
            | PolicyDecided
            | RunStopped
            | ApprovalRequested
            | ApprovalDecided
            | Retried
            | FallbackUsed
            | CircuitOpened
            | Compensated,
        ):
            fields = event.model_dump(exclude={"trace_id", "time", "kind"})
            root.add_event(
                f"podium.{event.kind}",
                {k: v if not isinstance(v, list) else "; ".join(v) for k, v in fields.items()},
                timestamp=_ns(event.time),
            )

    def shutdown(self) -> None:
        """Export what is queued and stop (waits at most the exporter's timeout)."""
        self.provider.shutdown()
