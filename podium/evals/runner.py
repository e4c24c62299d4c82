"""Runs a suite against agents built on any chat model, a few cases at a time.

Each case gets an agent of its own (its tools differ); cases run concurrently up to a limit.
Outcomes land in the report as they finish, so an interrupted run keeps what it has (the
report says it is partial). ``trials`` repeats each case, for pass^k.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from podium.errors import ConfigError
from podium.evals.matching import calls_problem, greedy_match
from podium.evals.report import CallMade, CaseOutcome, EvalReport
from podium.evals.schema_tools import schema_tool
from podium.evals.suite import Case, Suite
from podium.identity import Principal

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from podium.agent import Agent
    from podium.config import Settings
    from podium.results import RunResult
    from podium.tools.registry import Tool


def registry_tools(suite: Suite) -> list[Tool]:
    """The built-in tools the suite names; an unknown name is an error before anything runs."""
    from podium.tools.builtin import builtin_tools

    known = {t.name: t for t in builtin_tools(memory=False)}
    missing = [name for name in suite.tools if name not in known]
    if missing:
        raise ConfigError(
            f"suite {suite.name!r} names a tool that does not exist: {missing[0]!r}",
            f"use one of: {', '.join(sorted(known))}, or define it under inline_tools",
        )
    return [known[name] for name in suite.tools]


def _agent(suite: Suite, case: Case, model: BaseChatModel, settings: Settings) -> Agent:
    from podium.agent import Agent
    from podium.config import Limits

    inline = [
        schema_tool(t.model_dump(), t.result, t.error, t.scopes)
        for t in (*suite.inline_tools, *case.tools)
    ]
    limits = Limits(
        max_steps=case.max_steps or settings.max_steps, max_seconds=settings.max_seconds
    )
    return Agent(
        [*registry_tools(suite), *inline],
        model=model,
        settings=settings,
        limits=limits,
        compensate_on_failure=False,
    )


RAN = ("ok", "error", "timeout", "replayed")  # statuses of calls that were executed


def score(case: Case, result: RunResult, trial: int, latency_ms: float) -> CaseOutcome:
    """What one run of ``case`` achieved."""
    made = [
        (str(c["name"]), dict(c["arguments"]))
        for c in result.tool_calls
        if case.calls_from == "run" or c["step"] == 1
    ]
    problem = None
    expected = case.expect_calls or []
    matched = greedy_match(made, expected)[0]
    if case.expect_calls is not None:
        problem = calls_problem(made, expected, case.ordered)
    if case.expect_no_call and made:
        problem = f"called {made[0][0]}, expected no call"
    forbidden = [
        c["name"]
        for c in result.tool_calls
        if c["name"] in case.forbid_calls and c["status"] in RAN
    ]
    if forbidden and problem is None:
        problem = f"called the forbidden tool {forbidden[0]}"
    if case.answer is not None and problem is None:
        problem = case.answer.problem(result.answer)
    return CaseOutcome(
        case_id=case.id,
        tags=case.tags,
        trial=trial,
        passed=problem is None,
        problem=problem,
        calls_made=len(made),
        calls_matched=matched,
        calls_expected=len(expected),
        no_call_expected=case.expect_no_call,
        attack=case.attack,
        steps=result.usage.steps,
        tokens=result.usage.input_tokens + result.usage.output_tokens,
        cost_usd=result.usage.cost_usd,
        latency_ms=latency_ms,
        stop_reason=result.stop_reason,
        request=case.request,
        expected=case.expectation(),
        answer=result.answer,
        calls=[
            CallMade(name=str(c["name"]), arguments=dict(c["arguments"]), status=str(c["status"]))
            for c in result.tool_calls
        ],
        trace_id=result.trace_id,
    )


def _broken(case: Case, trial: int, problem: str) -> CaseOutcome:
    """The outcome of a case whose run broke before it had a result."""
    outcome = CaseOutcome.failed(case.id, case.tags, trial, problem, case.expect_no_call)
    return outcome.model_copy(update={"request": case.request, "expected": case.expectation()})


@contextlib.contextmanager
def _cassette(folder: Path | None, case_id: str, mode: str) -> Iterator[None]:
    """Record or replay the case's model HTTP exchanges (vcrpy), or nothing."""
    if folder is None:
        yield
        return
    import vcr

    path = folder / f"{case_id.replace('/', '_')}.yaml"
    if mode == "none" and not path.is_file():
        raise ConfigError(
            f"case {case_id!r} has no cassette at {path}", "record it first with --record"
        )
    recorder = vcr.VCR(
        record_mode=mode,
        match_on=["method", "scheme", "host", "port", "path", "query", "body"],
        filter_headers=["authorization", "openai-organization", "cookie"],
    )
    with recorder.use_cassette(str(path)):
        yield


async def run_case(
    suite: Suite,
    case: Case,
    model: BaseChatModel,
    settings: Settings,
    trial: int = 0,
    cassettes: Path | None = None,
    mode: str = "none",
) -> CaseOutcome:
    """One trial of one case; a failure of the run is the case's failure, named."""
    started = time.perf_counter()
    try:
        with _cassette(cassettes, case.id, mode):
            agent = _agent(suite, case, model, settings)
            thread = f"eval-{suite.name}-{case.id}-{trial}-{time.time_ns()}"
            who = Principal(id="eval", scopes=frozenset(case.scopes))
            for turn in case.conversation:
                await agent.ainvoke(turn, thread_id=thread, principal=who)
            result = await agent.ainvoke(case.request, thread_id=thread, principal=who)
    except Exception as error:  # one broken case must not end the suite
        problem = f"{type(error).__name__}: {error}"
        if type(error).__name__ == "CannotOverwriteExistingCassetteException":
            problem = f"prompt drift: a model request of case {case.id!r} is not in its cassette"
        return _broken(case, trial, problem)
    if (
        cassettes is not None
        and mode == "none"
        and "CannotOverwriteExistingCassette" in result.answer
    ):
        # The planner turns a failed model call into a stopped run; in replay it means the
        # request is not the recorded one.
        problem = f"prompt drift: a model request of case {case.id!r} is not in its cassette"
        return _broken(case, trial, problem)
    return score(case, result, trial, (time.perf_counter() - started) * 1000)


async def run_suite(
    suite: Suite,
    model: BaseChatModel,
    settings: Settings,
    report: EvalReport,
    concurrency: int = 4,
    trials: int = 1,
    on_done: Callable[[CaseOutcome], None] | None = None,
    cassettes: Path | None = None,
    mode: str = "none",
) -> EvalReport:
    """Run every case ``trials`` times into ``report`` (which keeps what finished)."""
    registry_tools(suite)  # unknown tools fail before any case runs
    if cassettes is not None:
        concurrency = 1  # vcrpy patches the HTTP client process-wide: one cassette at a time
        await asyncio.to_thread(cassettes.mkdir, parents=True, exist_ok=True)
    gate = asyncio.Semaphore(concurrency)

    async def one(case: Case, trial: int) -> None:
        async with gate:
            outcome = await run_case(suite, case, model, settings, trial, cassettes, mode)
        report.outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)

    await asyncio.gather(*(one(c, t) for t in range(trials) for c in suite.cases))
    report.partial = False
    return report
