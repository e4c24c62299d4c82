"""Screens: which validators run at which boundary, and what their failures do."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from podium.tools.outcomes import Verdict

if TYPE_CHECKING:
    from guardrails.validators import Validator

Boundary = Literal["input", "arguments", "output", "answer", "memory"]
Action = Literal["block", "fix"]


@dataclass(frozen=True)
class Check:
    """One validator at one boundary, with what to do when it fails."""

    validator: Validator
    action: Action = "block"


@dataclass(frozen=True)
class GuardDecision:
    """What the checks at one boundary decided about one text (a trace event)."""

    boundary: Boundary
    subject: str
    action: Literal["allow", "fix", "block"]
    reasons: list[str]
    duration_ms: float


@dataclass
class Screens:
    """The checks per boundary; run directly, one pass per boundary (no Guard overhead)."""

    input: list[Check] = field(default_factory=list)
    arguments: list[Check] = field(default_factory=list)
    output: list[Check] = field(default_factory=list)
    answer: list[Check] = field(default_factory=list)
    memory: list[Check] = field(default_factory=list)

    @classmethod
    def default(cls) -> Screens:
        """Podium's default checks at every boundary.

        Injection is blocked on input, tool output and memories (written or recalled: memory
        poisoning), secrets and personal data redacted in tool output, the answer and
        memories, sizes bounded.
        """
        from podium.guardrails.validators import PII, PromptInjection, Secrets, SizeLimit

        size = Check(SizeLimit(max_chars=100_000), "block")
        injection = Check(PromptInjection(), "block")
        pii, secrets = Check(PII(), "fix"), Check(Secrets(), "fix")
        return cls(
            input=[size, injection],
            arguments=[],
            output=[Check(SizeLimit(max_chars=20_000), "fix"), injection, secrets, pii],
            answer=[secrets, pii],
            memory=[injection, secrets, pii],
        )

    def run(self, boundary: Boundary, subject: str, text: str) -> tuple[Verdict, GuardDecision]:
        """Apply the boundary's checks to ``text`` in order; fixes feed the next check."""
        started = time.perf_counter()
        action: Literal["allow", "fix", "block"] = "allow"
        reasons: list[str] = []
        for check in getattr(self, boundary):
            result = check.validator.validate(text, {})
            if result.outcome == "pass":
                continue
            reasons.append(str(result.error_message))
            fix = getattr(result, "fix_value", None)
            if check.action == "fix" and fix is not None:
                text, action = str(fix), "fix"
            else:
                action = "block"
                break
        decision = GuardDecision(
            boundary=boundary,
            subject=subject,
            action=action,
            reasons=reasons,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        return Verdict(action=action, text=text, reasons=reasons), decision
