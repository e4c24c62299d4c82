"""What an eval run found: outcomes per case, figures per category, and their renderings."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from podium.tools.outcomes import shown


class CallMade(BaseModel):
    """A tool call a run made, as a report shows it."""

    name: str
    arguments: dict[str, Any] = {}
    status: str

    def describe(self) -> str:
        """``name(argument=value, ...) -> status``."""
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.arguments.items())
        return f"{self.name}({arguments}) -> {self.status}"


class CaseOutcome(BaseModel):
    """One trial of one case: whether it passed, why not, and what the run did."""

    case_id: str
    tags: list[str]
    trial: int
    passed: bool
    problem: str | None
    calls_made: int = 0
    calls_matched: int = 0
    calls_expected: int = 0
    no_call_expected: bool = False
    attack: bool = False
    steps: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    stop_reason: str = "error"
    request: str = ""
    expected: str = ""  # what must hold, in words
    answer: str = ""  # what the run answered
    calls: list[CallMade] = []  # every call the run made, in order
    trace_id: str = ""

    @classmethod
    def failed(
        cls, case_id: str, tags: list[str], trial: int, problem: str, no_call: bool
    ) -> CaseOutcome:
        """A case whose run broke (counted as failed, not as a successful attack)."""
        return cls(
            case_id=case_id,
            tags=tags,
            trial=trial,
            passed=False,
            problem=problem,
            no_call_expected=no_call,
        )

    def got(self) -> str:
        """What the run did, in words: its answer, then its calls."""
        answer = self.answer if self.answer else "(no answer)"
        return f"answer: {answer}\ncalls: {self.calls_text()}"

    def calls_text(self) -> str:
        """The calls made, ``; ``-separated, or "none"."""
        return "; ".join(c.describe() for c in self.calls) or "none"


class Figures(BaseModel):
    """The figures of one category (or of the whole suite)."""

    category: str
    cases: int
    accuracy: float
    pass_all_trials: float  # pass^k
    call_precision: float | None
    call_recall: float | None
    no_call_accuracy: float | None
    attack_success: float | None
    steps: float
    tokens: float
    cost_usd: float
    latency_p50_ms: float
    latency_p95_ms: float


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(category: str, outcomes: list[CaseOutcome]) -> Figures:
    """Figures over ``outcomes``."""
    by_case: dict[str, list[bool]] = defaultdict(list)
    for outcome in outcomes:
        by_case[outcome.case_id].append(outcome.passed)
    made = sum(o.calls_made for o in outcomes)
    expected = sum(o.calls_expected for o in outcomes)
    matched = sum(o.calls_matched for o in outcomes)
    no_call = [o for o in outcomes if o.no_call_expected]
    attacks = [o for o in outcomes if o.attack]
    latencies = [o.latency_ms for o in outcomes]
    return Figures(
        category=category,
        cases=len(by_case),
        accuracy=sum(o.passed for o in outcomes) / max(1, len(outcomes)),
        pass_all_trials=sum(all(v) for v in by_case.values()) / max(1, len(by_case)),
        call_precision=matched / made if made and expected else None,
        call_recall=matched / expected if expected else None,
        no_call_accuracy=sum(o.calls_made == 0 for o in no_call) / len(no_call)
        if no_call
        else None,
        attack_success=sum(not o.passed for o in attacks) / len(attacks) if attacks else None,
        steps=statistics.fmean(o.steps for o in outcomes) if outcomes else 0.0,
        tokens=statistics.fmean(o.tokens for o in outcomes) if outcomes else 0.0,
        cost_usd=sum(o.cost_usd for o in outcomes),
        latency_p50_ms=_percentile(latencies, 0.5),
        latency_p95_ms=_percentile(latencies, 0.95),
    )


class EvalReport(BaseModel):
    """A suite's run: every outcome, per-category figures, whether it met its threshold."""

    suite: str
    model: str
    threshold: float
    trials: int = 1
    cases: int = 0
    partial: bool = True  # until the runner says every case finished
    outcomes: list[CaseOutcome] = []

    def categories(self) -> list[Figures]:
        """Figures per tag, then for all cases ("all")."""
        tagged: dict[str, list[CaseOutcome]] = defaultdict(list)
        for outcome in self.outcomes:
            for tag in outcome.tags:
                tagged[tag].append(outcome)
        rows = [figures(tag, items) for tag, items in sorted(tagged.items())]
        return [*rows, figures("all", self.outcomes)]

    @property
    def accuracy(self) -> float:
        """Share of passed trials."""
        return figures("all", self.outcomes).accuracy

    @property
    def met_threshold(self) -> bool:
        """Whether the suite passed: complete, and accuracy at least the threshold."""
        return not self.partial and self.accuracy >= self.threshold

    def to_json(self) -> str:
        """The report with its figures, for files and --compare."""
        data = self.model_dump()
        data["figures"] = [f.model_dump() for f in self.categories()]
        return json.dumps(data, indent=2)

    @classmethod
    def read(cls, path: Path) -> EvalReport:
        """A report written by ``to_json``."""
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("figures", None)
        return cls.model_validate(data)


def failure_lines(report: EvalReport, shown_at_most: int = 10, width: int = 300) -> list[str]:
    """The failed trials for a terminal: each problem with the run's answer and calls.

    At most ``shown_at_most`` are listed; a last line says how many more were left out.
    """
    failed = [o for o in report.outcomes if not o.passed]
    lines = []
    for outcome in failed[:shown_at_most]:
        trial = f" (trial {outcome.trial + 1})" if report.trials > 1 else ""
        lines += [
            f"FAIL {outcome.case_id}{trial}: {shown(outcome.problem or '', 2 * width)}",
            f"  answer: {shown(outcome.answer, width) or '(no answer)'}",
            f"  calls: {shown(outcome.calls_text(), width)}",
        ]
    if len(failed) > shown_at_most:
        lines.append(
            f"... and {len(failed) - shown_at_most} more failed trial(s), not shown: "
            "--json FILE or --html FILE lists them all"
        )
    return lines


def _cell(value: float | None, percent: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if percent else f"{value:.1f}"


COLUMNS = ("category", "cases", "accuracy", "pass^k", "call P", "call R", "no-call", "attack",
           "steps", "tokens", "cost $", "p50 ms", "p95 ms")  # fmt: skip


def rows(report: EvalReport) -> list[list[str]]:
    """The figures as table cells, one row per category."""
    return [
        [
            f.category,
            str(f.cases),
            _cell(f.accuracy),
            _cell(f.pass_all_trials),
            _cell(f.call_precision),
            _cell(f.call_recall),
            _cell(f.no_call_accuracy),
            _cell(f.attack_success),
            _cell(f.steps, False),
            _cell(f.tokens, False),
            f"{f.cost_usd:.4f}",
            f"{f.latency_p50_ms:.0f}",
            f"{f.latency_p95_ms:.0f}",
        ]
        for f in report.categories()
    ]


def comparison(first: EvalReport, second: EvalReport) -> list[list[str]]:
    """Accuracy per category, side by side, with the difference."""
    left = {f.category: f for f in first.categories()}
    right = {f.category: f for f in second.categories()}
    table = []
    for category in dict.fromkeys([*left, *right]):
        a, b = left.get(category), right.get(category)
        diff = f"{b.accuracy - a.accuracy:+.1%}" if a and b else "-"
        table.append(
            [
                category,
                _cell(a.accuracy) if a else "-",
                _cell(b.accuracy) if b else "-",
                diff,
            ]
        )
    return table
