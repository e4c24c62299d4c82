"""The ``podium`` command: a thin typer app that registers each command group's module."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from podium.cli import chat, mcp, memory, resident_command, run, serve, threads, trace, worker
from podium.cli import eval as evals
from podium.cli.common import EXIT_INTERRUPTED, handles_errors, state, warn

app = typer.Typer(
    name="podium",
    help="An orchestration agent: plans, calls tools, screens everything, remembers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(shown: bool) -> None:
    if shown:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"podium {version('podium')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            print("podium (not installed: run from a source tree)")
        raise typer.Exit(0)


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """An orchestration agent: plans, calls tools, screens everything, remembers."""
    from podium.config import unknown_variables

    state["debug"] = debug or os.environ.get("PODIUM_DEBUG") == "1"
    for problem in unknown_variables(os.environ):
        warn(problem)


app.command("run")(handles_errors(run.run))
app.command("resume")(handles_errors(run.resume))
app.command("chat")(handles_errors(chat.chat))
app.command("tools")(handles_errors(run.tools))
app.add_typer(threads.app, name="threads")
app.add_typer(memory.app, name="memory")
app.add_typer(trace.app, name="trace")
app.command("stats")(handles_errors(trace.stats))
app.command("eval")(handles_errors(evals.eval_command))
app.command("serve")(handles_errors(serve.serve_command))
app.command("mcp")(handles_errors(mcp.mcp_command))
app.command("worker")(handles_errors(worker.worker_command))
app.add_typer(worker.db_app, name="db")
app.add_typer(resident_command.app, name="resident")


def main() -> None:
    """Entry point of the ``podium`` command.

    After Ctrl-C it exits as soon as the cancelled run has unwound (a quarter second at
    most) and the audit log has what it was given: the interpreter's own teardown of the
    libraries a run loads would take longer than that.
    """
    try:
        app()
    except SystemExit as done:
        if done.code != EXIT_INTERRUPTED:
            raise
        import sys

        from podium.loop import wind_down
        from podium.tracing.audit import flush_all

        wind_down(0.25)
        flush_all(0.1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
