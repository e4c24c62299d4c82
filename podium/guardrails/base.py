"""guardrails-ai's validator base, imported once its telemetry is off (see podium.privacy)."""

from __future__ import annotations

from podium.privacy import quiet_guardrails

quiet_guardrails()

from guardrails.validators import (  # noqa: E402  (telemetry must be off before this import)
    FailResult,
    PassResult,
    ValidationResult,
    Validator,
    register_validator,
)

__all__ = ["FailResult", "PassResult", "ValidationResult", "Validator", "register_validator"]
