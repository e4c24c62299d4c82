"""podium's validators, written on guardrails-ai's Validator base class.

Importing this module switches guardrails-ai's telemetry off first (see podium.privacy).
"""

from __future__ import annotations

import re
from typing import Any

from podium.guardrails.patterns import PERSONAL, redact
from podium.privacy import quiet_guardrails

quiet_guardrails()

from guardrails.validators import (  # noqa: E402  (telemetry must be off before this import)
    FailResult,
    PassResult,
    ValidationResult,
    Validator,
    register_validator,
)


@register_validator(name="podium/size_limit", data_type="string")
class SizeLimit(Validator):
    """Fails text longer than ``max_chars``; the fix keeps the first ``max_chars``."""

    def __init__(self, max_chars: int = 20_000, **kwargs: Any) -> None:
        super().__init__(max_chars=max_chars, **kwargs)
        self.max_chars = max_chars

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = str(value)
        if len(text) <= self.max_chars:
            return PassResult()
        return FailResult(
            error_message=f"text is {len(text)} characters, over the limit of {self.max_chars}",
            fix_value=text[: self.max_chars],
        )


# Phrasings that address the model rather than the task: overriding its instructions,
# changing its role, or extracting its prompt.
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(?:previous|prior|above|"
    r"earlier|all|any|your|the|system)\b[^.\n]{0,30}\b(?:instructions?|prompts?|rules?|"
    r"directions?|guidelines?|context)\b"
    r"|\b(?:reveal|print|show|repeat|leak)\b[^.\n]{0,30}\b(?:system|hidden|initial)\s+"
    r"(?:prompt|instructions?)\b"
    r"|\byou\s+are\s+now\b|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|jailbroken|evil|dan)\b"
    r"|\b(?:developer|god|jailbreak|dan)\s+mode\b"
    r"|</?(?:system|instructions?)>",
    re.IGNORECASE,
)
_HIDDEN = re.compile(r"[\u200b-\u200f\u2060-\u2064\ufeff]|<!--.*?-->", re.DOTALL)


@register_validator(name="podium/prompt_injection", data_type="string")
class PromptInjection(Validator):
    """Fails text that carries instructions aimed at the model, or hidden text."""

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = str(value)
        reasons = []
        if _HIDDEN.search(text):
            reasons.append("hidden text (zero-width characters or HTML comments)")
        match = _INJECTION.search(_HIDDEN.sub("", text))
        if match:
            reasons.append(f"instructions aimed at the model: {match.group()[:60]!r}")
        if not reasons:
            return PassResult()
        return FailResult(error_message="possible prompt injection: " + "; ".join(reasons))


@register_validator(name="podium/pii", data_type="string")
class PII(Validator):
    """Finds emails, phone numbers, payment cards (Luhn-checked) and US SSNs; fixes by redacting."""

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        fixed, found = redact(str(value), PERSONAL)
        if not found:
            return PassResult()
        kinds = ", ".join(sorted(set(found)))
        return FailResult(error_message=f"personal data found: {kinds}", fix_value=fixed)


@register_validator(name="podium/secrets", data_type="string")
class Secrets(Validator):
    """Finds API keys of the major providers, tokens and private key blocks; fixes by redacting."""

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        fixed, found = redact(str(value), ("secret",))
        if not found:
            return PassResult()
        return FailResult(error_message=f"secrets found: {len(found)}", fix_value=fixed)
