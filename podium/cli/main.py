"""The ``podium`` command: a thin typer app that registers each command group's module."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from podium.cli import eval as evals
from podium.cli import mcp, memory, run, serve, trace, worker
from podium.cli.common import handles_errors, state

app = typer.Typer(
    name="podium",
    help="An orchestration agent: plans, calls tools, screens everything, remembers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """An orchestration agent: plans, calls tools, screens everything, remembers."""
    state["debug"] = debug or os.environ.get("PODIUM_DEBUG") == "1"


app.command("run")(handles_errors(run.run))
app.command("chat")(handles_errors(run.chat))
app.command("tools")(handles_errors(run.tools))
app.add_typer(memory.app, name="memory")
app.add_typer(trace.app, name="trace")
app.command("stats")(handles_errors(trace.stats))
app.command("eval")(handles_errors(evals.eval_command))
app.command("serve")(handles_errors(serve.serve_command))
app.command("mcp")(handles_errors(mcp.mcp_command))
app.command("worker")(handles_errors(worker.worker_command))
app.add_typer(worker.db_app, name="db")
app.add_typer(worker.threads_app, name="threads")


def main() -> None:
    """Entry point of the ``podium`` command."""
    app()


if __name__ == "__main__":
    main()
