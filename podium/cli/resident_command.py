"""``podium resident status|stop``: the process that keeps a run's libraries loaded."""

from __future__ import annotations

import datetime
import json
from typing import Annotated

import typer

from podium.cli.common import handles_errors

app = typer.Typer(
    help="The resident process that keeps a run's libraries loaded (PODIUM_RESIDENT=0: off).",
    no_args_is_help=True,
)


@app.command("status")
@handles_errors
def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Whether this install's resident process is up, since when, and what it runs."""
    from podium.cli import resident

    found = resident.control("status")
    if as_json:
        print(json.dumps(found or {"running": False}))
        return
    if found is None:
        place = resident.folder()
        where = f"in {place}" if place else "(no private folder for its socket)"
        print(f"no resident process {where}; the next `podium run` starts one")
        return
    since = datetime.datetime.fromtimestamp(found["started"]).isoformat(timespec="seconds")
    running = ", ".join(str(p) for p in found["running"]) or "none"
    print(
        f"resident process {found['server']} since {since} ({found['max_rss_mb']:g} MB): "
        f"{found['served']} commands served, running now: {running}; it ends after "
        f"{found['idle']:g} s without one"
    )
    last = found.get("last") or {}
    if last:
        print(
            f"last command: {last['cpu_seconds']:g} s of CPU, at most {last['max_rss_mb']:g} MB "
            "(pages shared with the resident process included)"
        )


@app.command("stop")
@handles_errors
def stop() -> None:
    """Stop this install's resident process (the commands it runs finish first)."""
    from podium.cli import resident

    found = resident.control("stop")
    if found is None:
        print("no resident process was running")
        raise typer.Exit(0)
    print(f"stopping resident process {found['server']}")
