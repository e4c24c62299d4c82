"""The sinks every run of an agent writes to: the audit log, OpenTelemetry, plugins' sinks.

Each is opened once, on the first run that needs it, and shared by the agent's later runs.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podium.config import Settings
    from podium.tracing.audit import AuditLog
    from podium.tracing.events import Sink
    from podium.tracing.otel import OTelSink


class StandardSinks:
    """The sinks the settings ask for, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.audit: AuditLog | None = None
        self.otel: OTelSink | None = None
        self._plugins: list[Sink] | None = None

    def all(self) -> list[Sink]:
        """The audit log (on by default), OpenTelemetry export and plugins' sinks (if set)."""
        settings = self.settings
        sinks: list[Sink] = []
        if settings.audit:
            if self.audit is None:
                from podium.tracing.audit import audit_log

                key = settings.audit_key
                self.audit = audit_log(
                    settings.home_dir / "audit", key.get_secret_value() if key else None
                )
            sinks.append(self.audit.write)
        if settings.otlp_endpoint:
            if self.otel is None:
                from podium.tracing.otel import OTelSink

                self.otel = OTelSink.to_endpoint(settings.otlp_endpoint)
            sinks.append(self.otel)
        if settings.sinks:
            if self._plugins is None:
                from podium import plugins

                self._plugins = plugins.sinks(settings.sinks, settings)
            sinks += self._plugins
        return sinks

    def audit_status(self) -> dict[str, Any] | None:
        """The audit log's health (None before any run opened it): a service shows it."""
        return None if self.audit is None else dataclasses.asdict(self.audit.status())
