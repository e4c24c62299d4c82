"""podium's validators, written on guardrails-ai's Validator base class.

Importing this module switches guardrails-ai's telemetry off first (see podium.privacy).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from podium.guardrails.base import (
    FailResult,
    PassResult,
    ValidationResult,
    Validator,
    register_validator,
)
from podium.guardrails.detection import MAX_SCREEN_CHARS, screen
from podium.guardrails.injection import ALL_KINDS, KINDS, scan
from podium.guardrails.spans import Verdict as SpanVerdict
from podium.redaction import PERSONAL, redact


@register_validator(name="podium/size_limit", data_type="string")
class SizeLimit(Validator):
    """Fails text longer than ``max_chars``; the fix keeps the first ``max_chars``."""

    inline = True  # linear-time: screens run it on the calling thread

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


# Escape sequences first, so that a colour code goes whole, not just its ESC.
_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@register_validator(name="podium/text_format", data_type="string")
class TextFormat(Validator):
    """Fails text with control characters, terminal escapes or over-long lines.

    With ``json=True`` the text must also be valid JSON. The fix strips the control
    characters and cuts long lines (a JSON failure cannot be fixed: it blocks).
    """

    inline = True  # linear-time: screens run it on the calling thread

    def __init__(self, max_line: int = 10_000, json: bool = False, **kwargs: Any) -> None:
        super().__init__(max_line=max_line, json=json, **kwargs)
        self.max_line, self.json = max_line, json

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = str(value)
        problems = []
        if _CONTROL.search(text):
            problems.append("control characters or terminal escapes")
        if any(len(line) > self.max_line for line in text.splitlines()):
            problems.append(f"a line over {self.max_line} characters")
        if self.json:
            import json as json_module

            try:
                json_module.loads(text)
            except ValueError as error:
                problems.append(f"not valid JSON ({error})")
        if not problems:
            return PassResult()
        fixed = "\n".join(line[: self.max_line] for line in _CONTROL.sub("", text).split("\n"))
        return FailResult(
            error_message="text format: " + "; ".join(problems),
            fix_value=None if self.json else fixed,
        )


@register_validator(name="podium/prompt_injection", data_type="string")
class PromptInjection(Validator):
    """Fails text that carries instructions aimed at the model (see podium.guardrails.injection).

    ``kinds`` chooses the rules: all of them for what a person sends; for data (tool output,
    documents, memories) leave out "command", since a file may well hold code. The text is
    read as the model reads it (a serialization value by value, podium.guardrails.reading);
    the fix withholds the flagged stretches only (podium.guardrails.detection).
    """

    inline = True  # linear-time: screens run it on the calling thread

    def __init__(
        self, kinds: tuple[str, ...] = KINDS, max_chars: int = MAX_SCREEN_CHARS, **kwargs: Any
    ) -> None:
        unknown = sorted(set(kinds) - set(ALL_KINDS))
        if unknown:
            raise ValueError(f"unknown injection kinds {unknown}; known: {', '.join(ALL_KINDS)}")
        super().__init__(kinds=kinds, max_chars=max_chars, **kwargs)
        self.kinds = tuple(kinds)
        self.max_chars = max_chars

    def _verdict(self, text: str, only: tuple[str, ...] | None = None) -> SpanVerdict:
        findings = scan(text, only or self.kinds)
        if not findings:
            return SpanVerdict(False)
        # The reason names the kinds only: it may reach the planner, the evidence may not.
        kinds = ", ".join(dict.fromkeys(f.kind.replace("_", " ") for f in findings))
        return SpanVerdict(True, f"possible prompt injection ({kinds})")

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        found = screen(
            str(value),
            lambda pieces: [self._verdict(piece) for piece in pieces],
            self._verdict,
            lambda text: [finding.describe() for finding in scan(text, self.kinds)],
            self.max_chars,
            # Values read together: an encoded payload is judged in the value holding it (a
            # run verb anywhere beside any decodable value is no order across values).
            lambda text: self._verdict(text, tuple(k for k in self.kinds if k != "encoded")),
        )
        if found.clean:
            return PassResult()
        message = found.message("possible prompt injection")
        text = str(value)
        if _SYSTEM_FILE.search(text) and not scan(_SYSTEM_FILE.sub(" ", text), self.kinds):
            message = (
                "names a system file (credentials, hosts), outside the sandbox: podium's "
                "file tools do not read it (no instruction was found)"
            )
        return FailResult(
            error_message=message,
            fix_value=found.text,
            metadata={"evidence": found.evidence},
        )


@register_validator(name="podium/injection_classifier", data_type="string")
class InjectionClassifier(Validator):
    """Fails text a learned model scores as a prompt injection (podium.guardrails.classifier).

    A second opinion beside the rules, not written from any attack's wording: each segment of
    each value is scored, segments at or over the threshold are withheld with their borderline
    neighbours. English only. The weights load here: a missing or corrupt file raises
    ClassifierUnavailable naming the file and the fix (Screens.default then runs the rules
    alone and says so).
    """

    inline = True  # an embedding lookup and a dot product per segment

    def __init__(
        self, weights: str | None = None, max_chars: int = MAX_SCREEN_CHARS, **kwargs: Any
    ):
        from pathlib import Path

        from podium.guardrails.classifier import WEIGHTS, default_scorer

        super().__init__(weights=weights, max_chars=max_chars, **kwargs)
        self.scorer = default_scorer(Path(weights) if weights else WEIGHTS)
        self.max_chars = max_chars

    def _judge(self, pieces: Sequence[str]) -> list[SpanVerdict]:
        weights = self.scorer.weights
        return [
            SpanVerdict(
                score >= weights.threshold,
                f"likely prompt injection (learned detector, score {score:.2f})",
                score >= weights.borderline,
            )
            for score in self.scorer.scores(pieces)
        ]

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        found = screen(str(value), self._judge, None, None, self.max_chars)
        if found.clean:
            return PassResult()
        return FailResult(
            error_message=found.message("learned injection detector"),
            fix_value=found.text,
            metadata={"evidence": found.evidence},
        )


# What the command rule finds in a request that only names a system file: no instruction.
_SYSTEM_FILE = re.compile(
    r"/etc/(?:passwd|shadow|sudoers|hosts)\b|\.ssh/(?:id_\w+|authorized_keys)\b"
)


@register_validator(name="podium/pii", data_type="string")
class PII(Validator):
    """Finds emails, phone numbers, payment cards (Luhn-checked) and US SSNs; fixes by redacting."""

    inline = True  # linear-time: screens run it on the calling thread

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        fixed, found = redact(str(value), PERSONAL)
        if not found:
            return PassResult()
        kinds = ", ".join(sorted(set(found)))
        return FailResult(error_message=f"personal data found: {kinds}", fix_value=fixed)


@register_validator(name="podium/secrets", data_type="string")
class Secrets(Validator):
    """Finds API keys of the major providers, tokens and private key blocks; fixes by redacting."""

    inline = True  # linear-time: screens run it on the calling thread

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        fixed, found = redact(str(value), ("secret",))
        if not found:
            return PassResult()
        return FailResult(error_message=f"secrets found: {len(found)}", fix_value=fixed)
