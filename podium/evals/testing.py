"""Eval suites as pytest tests: one test per case.

from podium.evals.testing import cases_of, check_case

SUITE = "evals/my_suite.yaml"

@pytest.mark.parametrize("case", cases_of(SUITE), ids=lambda case: case.id)
def test_my_suite(case):
    check_case(SUITE, case)
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from podium.evals.suite import Case, Suite, load_suite

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from podium.evals.report import CaseOutcome


@functools.cache
def _suite(path: str) -> Suite:
    return load_suite(Path(path))


def cases_of(path: str | Path) -> list[Case]:
    """The cases of the suite at ``path``, to parametrize a test with."""
    return list(_suite(str(path)).cases)


def check_case(path: str | Path, case: Case, model: BaseChatModel | None = None) -> CaseOutcome:
    """Run one case (with the configured model, or ``model``); fail the test if it fails."""
    from podium.config import Settings
    from podium.evals.runner import run_case
    from podium.planner.models import resolve_model

    settings = Settings.load()
    outcome = asyncio.run(
        run_case(_suite(str(path)), case, model or resolve_model(settings), settings)
    )
    if not outcome.passed:
        raise AssertionError(
            f"eval case {case.id} failed: {outcome.problem}\n"
            f"  answer: {outcome.answer or '(no answer)'}\n  calls: {outcome.calls_text()}"
        )
    return outcome
