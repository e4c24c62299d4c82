"""`podium trace` (list, show, verify) and `podium stats`: runs read back from the audit log."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from podium.cli.common import audit_directory, audit_key, handles_errors, stderr

if TYPE_CHECKING:
    from podium.tracing.views import Run

app = typer.Typer(help="Runs recorded in the audit log.", no_args_is_help=True)


def verified_runs() -> list[Run]:
    """The runs of the records that pass verification; a warning when some lines fail."""
    from podium.tracing.verify import verify
    from podium.tracing.views import runs_of

    result = verify(audit_directory(), audit_key())
    if not result.intact:
        stderr().print(
            f"[yellow]warning:[/] the audit log fails verification ({len(result.problems)} "
            "problems): what fails is not shown; see 'podium trace verify'",
            highlight=False,
        )
    return runs_of(result)


@app.command("list")
@handles_errors
def trace_list(
    limit: Annotated[int, typer.Option(help="Show the newest N runs.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON lines.")] = False,
) -> None:
    """List recorded runs, newest last."""
    from rich.console import Console

    from podium.tracing.views import run_row, runs_table

    runs = verified_runs()[-limit:]
    if as_json:
        for run in runs:
            print(json.dumps(run_row(run)))
        return
    console = Console()
    console.print(runs_table(runs, wide=console.width >= 120))


@app.command("show")
@handles_errors
def trace_show(
    run_id: Annotated[str, typer.Argument(help="A trace id, or its first characters.")],
) -> None:
    """Show one run as a tree: nodes with timings, model calls with tokens and cost."""
    from rich.console import Console

    from podium.tracing.views import find_run, run_tree

    Console().print(run_tree(find_run(verified_runs(), run_id)))


@app.command("verify")
@handles_errors
def trace_verify(
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="SEQ:HASH, a newest record printed by an earlier verify and kept elsewhere: "
            "the log must still hold it.",
        ),
    ] = None,
) -> None:
    """Check the audit log: any edited, inserted, forged or deleted record is named."""
    from rich.console import Console

    from podium.errors import InvalidRequest
    from podium.tracing.records import parse_head
    from podium.tracing.verify import verify

    try:
        expect = parse_head(head) if head is not None else None
    except ValueError as error:
        fix = "pass --head as 'podium trace verify' printed it"
        raise InvalidRequest(str(error), fix) from None
    directory = audit_directory()
    result = verify(directory, audit_key(), expect)
    console = Console(soft_wrap=True)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    for problem in result.problems:
        console.print(f"[red]broken:[/] {escape(problem)}", highlight=False)
    if result.empty and result.intact:
        console.print(
            f"no records: {escape(str(directory))} has no audit log and no head "
            "(nothing was recorded here, or the whole directory was deleted)",
            highlight=False,
        )
        raise typer.Exit(0)
    checked = "hashes, chain, head" + (", signatures" if result.signed else "")
    verdict = "intact" if result.intact else "TAMPERED"
    newest = f"; newest record {result.newest}" if result.newest and result.intact else ""
    console.print(f"{result.records} records checked ({checked}): {verdict}{newest}")
    raise typer.Exit(0 if result.intact else 1)


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """Runs, success rate, latency, tokens and cost by model and tool, guard decisions.

    The success rate counts runs that did what was asked: answered, with a result from a
    call if they made any (a run whose calls all failed or were denied is no success).
    """
    from rich.console import Console

    from podium.tracing.views import stats_data, stats_tables

    if as_json:
        print(json.dumps(stats_data(verified_runs()), indent=2))
        return

    console = Console()
    for table in stats_tables(verified_runs()):
        console.print(table)
