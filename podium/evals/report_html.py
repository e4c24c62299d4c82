"""An eval report as one self-contained HTML page: figures, a bar chart, and every case.

Bars below the threshold differ from passing ones by colour and by their label; a dashed
line marks the threshold. The case table puts failures first and folds long texts.
"""

from __future__ import annotations

import html
import re

from podium.evals.report import COLUMNS, CaseOutcome, EvalReport, rows

PASS_COLOUR, FAIL_COLOUR = "#2e7d32", "#c62828"
BAR_LEFT, BAR_WIDTH, BAR_STEP, CHART_TOP = 160, 300, 28, 24
FOLD_AT = 120  # characters: a longer text shows its start and unfolds on a click
STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
    "td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}"
    "td:first-child,th:first-child{text-align:left}"
    ".cases td,.cases th{text-align:left;max-width:28em;overflow-wrap:anywhere}"
    ".cases td{white-space:pre-wrap}summary{cursor:pointer}"
    f".pass{{color:{PASS_COLOUR};font-weight:bold}}.fail{{color:{FAIL_COLOUR};font-weight:bold}}"
)


def _folded(text: str) -> str:
    """``text`` escaped; when long, its start as a summary that unfolds to the whole."""
    if len(text) <= FOLD_AT:
        return html.escape(text)
    start = " ".join(text[:FOLD_AT].split())
    return f"<details><summary>{html.escape(start)}…</summary>{html.escape(text)}</details>"


def chart(report: EvalReport) -> str:
    """Accuracy per category as bars, a dashed threshold line, each bar labelled pass/fail."""
    categories = report.categories()
    height = CHART_TOP + 10 + BAR_STEP * len(categories)
    line_x = BAR_LEFT + round(BAR_WIDTH * report.threshold)
    parts = [
        f'<svg width="680" height="{height}" font-family="sans-serif" font-size="12" '
        f'role="img" aria-label="accuracy per category against the threshold">',
        f'<line x1="{line_x}" y1="{CHART_TOP - 6}" x2="{line_x}" y2="{height}" '
        'stroke="#333" stroke-dasharray="4 3"/>',
        f'<text x="{line_x}" y="{CHART_TOP - 10}" text-anchor="middle">'
        f"threshold {report.threshold:.0%}</text>",
    ]
    for index, f in enumerate(categories):
        passed = f.accuracy >= report.threshold
        width = round(BAR_WIDTH * f.accuracy)
        y = CHART_TOP + index * BAR_STEP
        label = "pass" if passed else "FAIL: below threshold"
        colour = PASS_COLOUR if passed else FAIL_COLOUR
        parts.append(
            f'<g class="{"pass" if passed else "fail"}">'
            f'<text x="0" y="{y + 15}">{html.escape(f.category)}</text>'
            f'<rect x="{BAR_LEFT}" y="{y}" width="{width}" height="20" fill="{colour}"/>'
            f'<text x="{BAR_LEFT + BAR_WIDTH + 8}" y="{y + 15}" fill="{colour}">'
            f"{f.accuracy:.1%} {label}</text></g>"
        )
    return "".join(parts) + "</svg>"


def _case_row(outcome: CaseOutcome, trials: int) -> str:
    name = outcome.case_id + (f" (trial {outcome.trial + 1})" if trials > 1 else "")
    verdict = (
        '<span class="pass">✓ pass</span>'
        if outcome.passed
        else ('<span class="fail">✗ FAIL</span>')
    )
    cells = [
        html.escape(name),
        verdict,
        _folded(outcome.request),
        _folded(outcome.expected),
        _folded(outcome.got()),
        _folded(outcome.problem or ""),
        f"<code>{html.escape(outcome.trace_id)}</code>" if outcome.trace_id else "-",
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _order(outcome: CaseOutcome) -> tuple[bool, list[tuple[int, str]], int]:
    """Failures first, then by case id with its numbers as numbers (case_2 before case_10)."""
    parts = re.split(r"(\d+)", outcome.case_id)
    natural = [(int(part), "") if part.isdigit() else (-1, part) for part in parts]
    return outcome.passed, natural, outcome.trial


def case_table(report: EvalReport) -> str:
    """One row per trial, failures first: request, expected, got, problem, trace id."""
    ordered = sorted(report.outcomes, key=_order)
    head = "".join(
        f"<th>{name}</th>"
        for name in ("case", "result", "request", "expected", "got", "problem", "trace id")
    )
    body = "".join(_case_row(outcome, report.trials) for outcome in ordered)
    return f'<table class="cases"><tr>{head}</tr>{body}</table>'


def to_html(report: EvalReport) -> str:
    """A self-contained HTML page: the figures, the chart, and the table of cases."""
    title = html.escape(f"{report.suite} · {report.model}")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows(report)
    )
    state = "partial (interrupted)" if report.partial else "complete"
    verdict = "passed" if report.met_threshold else "FAILED"
    failed = sum(not o.passed for o in report.outcomes)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>"
        f"<p><span class='{'pass' if report.met_threshold else 'fail'}'>{verdict}</span>: "
        f"{state}; {report.accuracy:.1%} of {len(report.outcomes)} trial(s) passed, "
        f"threshold {report.threshold:.0%}; {report.trials} trial(s) a case; "
        f"{failed} failed</p>{chart(report)}"
        f"<table><tr>{head}</tr>{body}</table><h2>Cases</h2>{case_table(report)}"
        "</body></html>"
    )
