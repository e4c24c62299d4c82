"""`podium trace` (list, show, verify) and `podium stats`: runs read back from the audit log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from podium.cli.common import audit_directory, handles_errors

app = typer.Typer(help="Runs recorded in the audit log.", no_args_is_help=True)


@app.command("list")
@handles_errors
def trace_list(
    limit: Annotated[int, typer.Option(help="Show the newest N runs.")] = 20,
) -> None:
    """List recorded runs, newest last."""
    from rich.console import Console

    from podium.tracing.views import load_runs, runs_table

    Console().print(runs_table(load_runs(audit_directory())[-limit:]))


@app.command("show")
@handles_errors
def trace_show(
    run_id: Annotated[str, typer.Argument(help="A trace id, or its first characters.")],
) -> None:
    """Show one run as a tree: nodes with timings, model calls with tokens and cost."""
    from rich.console import Console

    from podium.tracing.views import find_run, load_runs, run_tree

    Console().print(run_tree(find_run(load_runs(audit_directory()), run_id)))


@app.command("verify")
@handles_errors
def trace_verify() -> None:
    """Check the audit log's hash chain: any edited, inserted or deleted record is named."""
    from rich.console import Console

    from podium.tracing.audit import verify

    result = verify(audit_directory())
    console = Console(soft_wrap=True)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    for problem in result.problems:
        console.print(f"[red]broken:[/] {escape(problem)}", highlight=False)
    verdict = "intact" if result.intact else "TAMPERED"
    console.print(f"{result.records} records checked: {verdict}")
    raise typer.Exit(0 if result.intact else 1)


def stats() -> None:
    """Runs, success rate, latency, tokens and cost by model and tool, guard decisions."""
    from rich.console import Console

    from podium.tracing.views import load_runs, stats_tables

    console = Console()
    for table in stats_tables(load_runs(audit_directory())):
        console.print(table)
