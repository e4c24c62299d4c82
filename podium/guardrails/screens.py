"""Screens: which validators run at which boundary, and what their failures do.

The checks of a boundary run at once on daemon threads, within the screen's timeout; a check
that raises or does not answer in time blocks the text (fail-closed) unless the screen is
configured to fail open, and the decision says so either way. podium's own checks stop at
the timeout too, freeing their thread (podium.guardrails.deadline). podium's own text checks
(marked ``inline``) run on the calling thread: they are linear-time and cheaper than a
thread hand-off.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import wait as wait_all
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from podium.errors import ConfigError
from podium.guardrails import deadline
from podium.tools.outcomes import Verdict
from podium.workers import POOL

if TYPE_CHECKING:
    from guardrails.validators import ValidationResult, Validator

logger = logging.getLogger(__name__)

Boundary = Literal["input", "arguments", "output", "answer", "memory", "subagent"]
BOUNDARIES: tuple[Boundary, ...] = ("input", "arguments", "output", "answer", "memory", "subagent")
Action = Literal["block", "fix", "reask", "escalate"]
# Texts up to this long are screened on the calling thread by podium's own checks.
INLINE_CHARS = 4_000
Decision = Literal["allow", "fix", "reask", "escalate", "block"]
# When checks disagree the strictest wins.
_SEVERITY: dict[Decision, int] = {"allow": 0, "fix": 1, "reask": 2, "escalate": 3, "block": 4}
# Where each action makes sense: a person approves a call before it runs; the planner can be
# asked again about its arguments, a tool's output (call differently) or its answer.
_WHERE: dict[Action, tuple[Boundary, ...]] = {
    "block": BOUNDARIES,
    "fix": BOUNDARIES,
    "reask": ("arguments", "output", "answer"),
    "escalate": ("arguments",),
}


@dataclass(frozen=True)
class Check:
    """One validator at one boundary, with what to do when it fails."""

    validator: Validator
    action: Action = "block"

    @property
    def name(self) -> str:
        """The validator's registered name, for reasons and traces."""
        return str(getattr(self.validator, "rail_alias", "") or type(self.validator).__name__)


@dataclass(frozen=True)
class ToolChecks:
    """Checks for one tool's arguments and output, added to the boundary's (or instead)."""

    arguments: list[Check] = field(default_factory=list)
    output: list[Check] = field(default_factory=list)
    replace: bool = False


@dataclass(frozen=True)
class GuardDecision:
    """What the checks at one boundary decided about one text (a trace event)."""

    boundary: Boundary
    subject: str
    action: Decision
    reasons: list[str]
    duration_ms: float
    evidence: list[str] = field(default_factory=list)


@dataclass
class Screens:
    """The checks per boundary, per-tool overrides, and the screens' timeout and fail mode."""

    input: list[Check] = field(default_factory=list)
    arguments: list[Check] = field(default_factory=list)
    output: list[Check] = field(default_factory=list)
    answer: list[Check] = field(default_factory=list)
    memory: list[Check] = field(default_factory=list)
    subagent: list[Check] = field(default_factory=list)
    tools: dict[str, ToolChecks] = field(default_factory=dict)
    timeout: float = 2.0
    fail_open: bool = False
    max_reasks: int = 2

    def __post_init__(self) -> None:
        for boundary in BOUNDARIES:
            self._allowed(boundary, getattr(self, boundary))
        for name, checks in self.tools.items():
            self._allowed("arguments", checks.arguments, f" (tool {name!r})")
            self._allowed("output", checks.output, f" (tool {name!r})")

    @staticmethod
    def _allowed(boundary: Boundary, checks: Sequence[Check], where: str = "") -> None:
        for check in checks:
            if boundary not in _WHERE[check.action]:
                raise ConfigError(
                    f"action {check.action!r} of {check.name} cannot apply at the {boundary} "
                    f"boundary{where}",
                    f"use it at: {', '.join(_WHERE[check.action])}; or use block or fix",
                )

    @classmethod
    def default(cls, learned: bool = False) -> Screens:
        """Podium's default checks at every boundary.

        Injection is blocked on input (every rule kind). In tool output and sub-agent messages
        the rules (kinds that make sense in data: a file may hold code) withhold what they
        flag, and the rest reaches the planner (``fix``). With ``learned`` the learned detector
        runs beside them there, and a stretch either flags is withheld: it finds injections
        the rules miss (BIPIA's, never seen: 0.72 against 0.00) but withholds about five times
        as much benign text (see BENCHMARKS.md), hence off unless asked for. Memories are
        blocked on the rules, with the standing orders to later runs. Secrets and personal
        data are redacted in tool output, the answer and memories; sizes bounded; control
        characters and terminal escapes stripped from tool output and the answer. When the
        learned detector's weights cannot be loaded, the rules run alone and a warning says so.
        """
        from podium.guardrails.injection import DATA_KINDS, MEMORY_KINDS
        from podium.guardrails.validators import (
            PII,
            PromptInjection,
            Secrets,
            SizeLimit,
            TextFormat,
        )

        data_injection = [Check(PromptInjection(kinds=DATA_KINDS), "fix")]
        if learned:
            data_injection += _learned()
        pii, secrets = Check(PII(), "fix"), Check(Secrets(), "fix")
        text_format = Check(TextFormat(), "fix")
        return cls(
            input=[Check(SizeLimit(max_chars=100_000), "block"), Check(PromptInjection())],
            arguments=[],
            output=[
                Check(SizeLimit(max_chars=20_000), "fix"),
                text_format,
                *data_injection,
                secrets,
                pii,
            ],
            answer=[text_format, secrets, pii],
            memory=[Check(PromptInjection(kinds=MEMORY_KINDS), "block"), secrets, pii],
            subagent=[*data_injection, secrets],
        )

    def checks(self, boundary: Boundary, subject: str = "") -> list[Check]:
        """The checks that apply to ``subject`` (a tool's name at arguments and output)."""
        if boundary == "memory":
            return self._memory_checks()
        shared: list[Check] = getattr(self, boundary)
        extra = self.tools.get(subject) if boundary in ("arguments", "output") else None
        if extra is None:
            return shared
        own: list[Check] = getattr(extra, boundary)
        return own if extra.replace else [*shared, *own]

    def _memory_checks(self) -> list[Check]:
        """The memory checks, with the output's that quarantine, and never without injection.

        What is remembered comes from requests, tool outputs and notes the planner saves, and
        later runs read it: it is untrusted data as tool output is, so the checks that withhold
        a tool's output (block; reask, which cannot apply here, as block) run on every memory
        written and recalled too. Screens with no injection check there still get podium's.
        """
        checks = list(self.memory)
        for check in self.output:
            if check.action in ("block", "reask") and not any(_covers(c, check) for c in checks):
                checks.append(check if check.action == "block" else Check(check.validator))
        if not any(c.name == _INJECTION for c in checks):
            checks.append(_memory_injection())
        return checks

    def _submit(
        self, checks: list[Check], text: str, metadata: dict[str, Any]
    ) -> tuple[list[Pending], threading.Event | None]:
        """Start every check, each with a future of its result; the stop of those on the pool.

        podium's own text checks (``inline``: linear-time regular expressions, tested on
        pathological text) run on this thread for short texts, since a thread hand-off costs
        more than they do; on long texts, and for all other checks, they run on daemon
        threads within the timeout, so that a server's event loop never scans a long text.
        """
        futures: list[Pending] = []
        short = len(text) <= INLINE_CHARS
        # podium's own checks on the pool stop once ``stop`` is set (the screen has decided
        # without them); it is made only for them (a screen of a short text has none). Those
        # run here on a short text never stop: they take well under a millisecond, and a
        # thread starved by another's long parse must still get a real verdict (stopped, it
        # would block a benign text, or pass an attack through a screen that fails open).
        stop: threading.Event | None = None
        for check in checks:
            validator = check.validator
            if short and getattr(validator, "inline", False):
                try:
                    futures.append(Settled(validator.validate(text, dict(metadata))))
                except Exception as error:  # decided like any failing check
                    futures.append(Settled(None, error))
            else:
                if stop is None:
                    stop = threading.Event()
                futures.append(POOL.submit(_validate(validator, text, metadata, stop)))
        return futures, stop

    def _start(
        self, boundary: Boundary, subject: str, text: str, metadata: dict[str, Any] | None
    ) -> tuple[list[Check], dict[str, Any], list[Pending], threading.Event | None]:
        checks = self.checks(boundary, subject)
        metadata = {"boundary": boundary, "subject": subject, **(metadata or {})}
        return checks, metadata, *self._submit(checks, text, metadata)

    def run(
        self, boundary: Boundary, subject: str, text: str, metadata: dict[str, Any] | None = None
    ) -> tuple[Verdict, GuardDecision]:
        """Apply the boundary's checks to ``text`` at once and combine what they decide."""
        started = time.perf_counter()
        checks, metadata, futures, stop = self._start(boundary, subject, text, metadata)
        try:
            wait_all([f for f in futures if isinstance(f, Future)], timeout=self.timeout)
            return self._decide(boundary, subject, text, checks, futures, metadata, started)
        finally:
            if stop is not None:  # decided: the checks still running stop
                stop.set()

    async def arun(
        self, boundary: Boundary, subject: str, text: str, metadata: dict[str, Any] | None = None
    ) -> tuple[Verdict, GuardDecision]:
        """``run`` for the event loop: waiting on the checks does not block other calls."""
        started = time.perf_counter()
        checks, metadata, futures, stop = self._start(boundary, subject, text, metadata)
        decide = functools.partial(
            self._decide, boundary, subject, text, checks, futures, metadata, started
        )
        try:  # (cancelled while it waits, too: the checks still running stop)
            pending = [f for f in futures if isinstance(f, Future) and not f.done()]
            if pending:
                await asyncio.wait([_answered(pending)], timeout=self.timeout)
            if len(text) > INLINE_CHARS:  # fixes re-run checks on the text: not on the loop
                return await asyncio.to_thread(decide)
            return decide()
        finally:
            if stop is not None:  # decided: the checks still running stop
                stop.set()

    def _decide(
        self,
        boundary: Boundary,
        subject: str,
        text: str,
        checks: list[Check],
        futures: list[Pending],
        metadata: dict[str, Any],
        started: float,
    ) -> tuple[Verdict, GuardDecision]:
        action: Decision = "allow"
        reasons: list[str] = []
        evidence: list[str] = []
        fixes: list[tuple[Check, ValidationResult]] = []
        for check, future in zip(checks, futures, strict=True):
            failure = _broken(check, future, self.timeout)
            if failure is not None:
                reasons.append(failure + (" (failed open)" if self.fail_open else ""))
                if not self.fail_open:
                    action = "block"
                continue
            result = future.result()
            if result.outcome == "pass":
                continue
            reasons.append(str(result.error_message))
            evidence += (getattr(result, "metadata", None) or {}).get("evidence", [])
            wanted: Decision = check.action
            if wanted == "fix" and getattr(result, "fix_value", None) is None:
                wanted = "block"  # a check that cannot fix blocks
            if wanted == "fix":
                fixes.append((check, result))
            if _SEVERITY[wanted] > _SEVERITY[action]:
                action = wanted
        if action == "fix":
            text = _apply_fixes(text, fixes, metadata)
        decision = GuardDecision(
            boundary=boundary,
            subject=subject,
            action=action,
            reasons=reasons,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            evidence=evidence,
        )
        return Verdict(action=action, text=text, reasons=reasons), decision


_INJECTION = "podium/prompt_injection"


def _covers(check: Check, other: Check) -> bool:
    """Whether ``check`` already finds what ``other`` would (the same, or more injection kinds)."""
    if check.validator is other.validator:
        return True
    kinds = getattr(check.validator, "kinds", None), getattr(other.validator, "kinds", None)
    return (
        check.name == other.name == _INJECTION
        and None not in kinds
        and set(kinds[1] or ()) <= set(kinds[0] or ())
    )


def _learned() -> list[Check]:
    """The learned injection detector's check, or none (with a warning) when it cannot load."""
    from podium.guardrails.classifier import ClassifierUnavailable
    from podium.guardrails.validators import InjectionClassifier

    try:
        return [Check(InjectionClassifier(), "fix")]
    except ClassifierUnavailable as error:
        _warn_once(f"the learned injection detector is off, the rules run alone: {error}")
        return []


@functools.cache
def _warn_once(message: str) -> None:
    logger.warning(message)


@functools.cache
def _memory_injection() -> Check:
    from podium.guardrails.injection import MEMORY_KINDS
    from podium.guardrails.validators import PromptInjection

    return Check(PromptInjection(kinds=MEMORY_KINDS), "block")


def _validate(
    validator: Validator, text: str, metadata: dict[str, Any], stop: threading.Event
) -> Callable[[], ValidationResult]:
    def validate() -> ValidationResult:
        with deadline.until(stop):
            return validator.validate(text, dict(metadata))

    return validate


def _answered(pending: list[Future[Any]]) -> asyncio.Future[None]:
    """A future of the loop's, done once every one of ``pending`` has answered.

    It is only ever given None: a check's error stays on the check's own future, where the
    screen reads it. (A wrapper per check, as ``asyncio.wrap_future`` makes, also held the
    error of a check that stopped after the decision; when the loop ended before the
    wrapper's callbacks ran, asyncio logged it as never retrieved.)
    """
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[None] = loop.create_future()
    left = [len(pending)]
    lock = threading.Lock()

    def one_answered(_: Future[Any]) -> None:
        with lock:
            left[0] -= 1
            if left[0]:
                return
        try:
            loop.call_soon_threadsafe(_settle, answered)
        except RuntimeError:  # the loop has closed: nobody waits any more
            pass

    for future in pending:
        future.add_done_callback(one_answered)
    return answered


def _settle(answered: asyncio.Future[None]) -> None:
    if not answered.done():  # (cancelled with the screen's wait)
        answered.set_result(None)


class Settled:
    """The result of a check run inline, read as a finished future's.

    A concurrent Future builds a lock and a condition, which cost more than podium's own
    checks on a short text; this holds the result or the error, nothing else.
    """

    __slots__ = ("_error", "_result")

    def __init__(self, result: ValidationResult | None, error: Exception | None = None) -> None:
        self._result = result
        self._error = error

    def done(self) -> bool:
        """Always: it ran before it was made."""
        return True

    def cancel(self) -> bool:
        """Never: there is nothing left to stop."""
        return False

    def exception(self) -> Exception | None:
        """What the check raised, if it did."""
        return self._error

    def result(self) -> ValidationResult:
        """The check's result (or what it raised, raised again)."""
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


Pending = Future["ValidationResult"] | Settled


def _broken(check: Check, future: Pending, timeout: float) -> str | None:
    """Why a check gave no verdict (it hung or raised), or None when it did."""
    error = future.exception() if future.done() else None
    if not future.done() or isinstance(error, deadline.CheckTimedOut):  # (stopped: late too)
        future.cancel()
        return f"{check.name} did not answer within {timeout:g}s"
    if error is not None:
        return f"{check.name} failed: {type(error).__name__}: {error}"
    return None


def _apply_fixes(
    text: str, fixes: list[tuple[Check, ValidationResult]], metadata: dict[str, Any]
) -> str:
    """``text`` with each fix applied in turn.

    The first fix applies to the text as checked; later checks re-run on the text the
    previous fixes left, so that two redactions both hold.
    """
    for index, (check, result) in enumerate(fixes):
        if index > 0:
            result = check.validator.validate(text, dict(metadata))
            if result.outcome == "pass":
                continue
        fixed = getattr(result, "fix_value", None)
        text = str(fixed) if fixed is not None else text
    return text
