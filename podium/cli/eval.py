"""`podium eval`: run a suite (a file, or a BFCL category) and report; exit 1 below threshold.

Nothing heavy is imported until it runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from podium.evals.report import EvalReport
    from podium.evals.suite import Suite

DEFAULT_BFCL = Path(os.environ.get("PODIUM_BFCL_DATA", "../shared/data/bfcl"))


def _suite(source: str, data: Path, limit: int | None) -> Suite:
    from podium.evals.bfcl import load_bfcl
    from podium.evals.suite import load_suite

    if source.startswith("bfcl:"):
        return load_bfcl(data, source.removeprefix("bfcl:"), limit)
    suite = load_suite(Path(source))
    if limit is not None:
        suite = suite.model_copy(update={"cases": suite.cases[:limit]})
    return suite


NARROW_COLUMNS = frozenset(
    {"category", "cases", "accuracy", "pass^k", "call P", "call R", "p50 ms"}
)


def _table(report: EvalReport) -> None:
    from rich.console import Console
    from rich.table import Table

    from podium.evals.report import COLUMNS, rows

    console = Console()
    # At 80 columns the measures that say whether it worked; all of them when wide.
    shown = [i for i, c in enumerate(COLUMNS) if console.width >= 120 or c in NARROW_COLUMNS]
    table = Table(title=f"{report.suite} · {report.model}", title_justify="left")
    for i in shown:
        column = COLUMNS[i]
        table.add_column(column, justify="left" if column == "category" else "right", no_wrap=True)
    for row in rows(report):
        table.add_row(*(row[i] for i in shown))
    console.print(table)


def compare(first: Path, second: Path) -> None:
    """Print two saved reports side by side."""
    from rich.console import Console
    from rich.table import Table

    from podium.evals.report import EvalReport, comparison

    a, b = EvalReport.read(first), EvalReport.read(second)
    table = Table(title="accuracy")
    for column in ("category", f"{a.suite} · {a.model}", f"{b.suite} · {b.model}", "change"):
        table.add_column(escape(column))
    for row in comparison(a, b):
        table.add_row(*row)
    Console().print(table)


def eval_command(
    source: Annotated[
        str | None, typer.Argument(help="A suite file (.yaml/.jsonl) or bfcl:CATEGORY.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Run only the first N cases.")] = None,
    concurrency: Annotated[int, typer.Option(help="Cases at once.")] = 4,
    trials: Annotated[int, typer.Option(help="Run each case k times (pass^k).")] = 1,
    threshold: Annotated[
        float | None, typer.Option(help="Pass rate needed (default: the suite's).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write an HTML report.")] = None,
    record: Annotated[
        Path | None, typer.Option(help="Record each case's model HTTP into this folder.")
    ] = None,
    replay: Annotated[
        Path | None, typer.Option(help="Replay cassettes from this folder (offline).")
    ] = None,
    data: Annotated[Path, typer.Option(help="BFCL data folder.")] = DEFAULT_BFCL,
    compare_with: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", help="Show two saved reports side by side."),
    ] = None,
    agentdojo: Annotated[
        bool,
        typer.Option(
            "--agentdojo",
            help="Run AgentDojo's suites (SOURCE: workspace, travel, banking or slack; all "
            "when omitted) per defense layer: none, detector, provenance, both.",
        ),
    ] = False,
    layer: Annotated[
        list[str] | None, typer.Option(help="With --agentdojo: only this layer (repeatable).")
    ] = None,
    approver: Annotated[
        str,
        typer.Option(
            help="With --agentdojo: who decides calls held for approval: nobody (all "
            "declined) or asker (the calls the task needs approved, others declined).",
        ),
    ] = "nobody",
) -> None:
    """Run an eval suite and report per category; exit 1 when below the threshold."""
    if compare_with is not None:
        compare(*compare_with)
        return
    if agentdojo:
        from podium.cli.agentdojo import agentdojo_command

        agentdojo_command(source, layer, limit, approver)
        return
    if source is None:
        raise typer.BadParameter("give a suite file or bfcl:CATEGORY (or --compare A B)")
    import asyncio

    from rich.progress import Progress

    from podium.config import Settings
    from podium.errors import ConfigError
    from podium.evals.report import EvalReport, failure_lines
    from podium.evals.runner import registry_tools, run_suite
    from podium.evals.suite import check_threshold
    from podium.planner.models import model_name, resolve_model

    if record and replay:
        raise ConfigError("--record and --replay exclude each other", "choose one")
    if threshold is not None:
        check_threshold(threshold)
    suite = _suite(source, data, limit)
    registry_tools(suite)  # an unknown tool is an error before anything runs or prints
    settings = Settings.load()
    model = resolve_model(settings)
    report = EvalReport(
        suite=suite.name,
        model=model_name(model),
        threshold=suite.threshold if threshold is None else threshold,
        trials=trials,
        cases=len(suite.cases),
    )
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task(escape(suite.name), total=len(suite.cases) * trials)
            asyncio.run(
                run_suite(
                    suite,
                    model,
                    settings,
                    report,
                    concurrency=concurrency,
                    trials=trials,
                    on_done=lambda _: progress.advance(task),
                    cassettes=record or replay,
                    mode="all" if record else "none",
                )
            )
    except KeyboardInterrupt:
        typer.echo("interrupted: the report holds the cases that finished", err=True)
    _table(report)
    if json_out:
        json_out.write_text(report.to_json(), encoding="utf-8")
    if html_out:
        from podium.evals.report_html import to_html

        html_out.write_text(to_html(report), encoding="utf-8")
    for line in failure_lines(report):
        typer.echo(line)
    state = "partial, " if report.partial else ""
    verdict = "passed" if report.met_threshold else "FAILED"
    typer.echo(
        f"{verdict}: {state}{report.accuracy:.1%} of {len(report.outcomes)} trial(s), "
        f"threshold {report.threshold:.0%}"
    )
    raise typer.Exit(0 if report.met_threshold else 1)
