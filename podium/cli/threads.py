"""`podium threads`: the conversation threads under the home (list, show, delete, prune)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from podium.cli.common import EXIT_USAGE, fail, handles_errors
from podium.cli.worker import DatabaseOption, use_database
from podium.terminal import one_line, printable

if TYPE_CHECKING:
    from podium.agent import Agent
    from podium.storage.base import IndexedRun

app = typer.Typer(help="Conversation threads: list, show, delete, prune.", no_args_is_help=True)
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")]


def _agent() -> Agent:
    """An agent over the home's threads: no tools, guards or memory are needed to read them."""
    from podium.agent import Agent

    return Agent([], guards=None)


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def _row(run: IndexedRun) -> dict[str, object]:
    return {
        "thread_id": run.thread_id,
        "state": run.state,
        "owner": run.owner,
        "since": _when(run.since),
        "request": run.request,
    }


@app.command("list")
@handles_errors
def threads_list(
    limit: Annotated[int, typer.Option(help="Show the newest N threads.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON lines.")] = False,
) -> None:
    """The threads, newest first: the state of each one's last run, and its request."""
    from rich.console import Console
    from rich.table import Table

    found = _agent().storage.runs().threads("", limit)
    if as_json:
        for run in found:
            print(json.dumps(_row(run)))
        return
    if not found:
        print("no threads yet: 'podium run' and 'podium chat' start them")
        return
    table = Table(title=f"{len(found)} threads, newest first", title_justify="left")
    table.add_column("thread", no_wrap=True)  # whole: 'threads show' and 'resume' take it
    table.add_column("last run", no_wrap=True)
    table.add_column("request", overflow="ellipsis", no_wrap=True, ratio=1)
    for run in found:
        table.add_row(escape(printable(run.thread_id)), run.state, escape(one_line(run.request)))
    Console().print(table)


@app.command("show")
@handles_errors
def threads_show(
    thread: Annotated[str, typer.Argument(help="The thread's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False,
) -> None:
    """A thread's conversation (requests, calls, answers), its last run and checkpoints."""
    from podium import thread_admin
    from podium.loop import run_sync

    found = run_sync(thread_admin.history(_agent(), thread))
    if not found.view.exists:
        fail(f"there is no thread {thread!r}", "see 'podium threads list' for the ids")
    view, last = found.view, found.last
    state = "waits for approval" if view.waiting else "unfinished" if view.unfinished else "ended"
    if as_json:
        data = {
            "thread_id": thread,
            "owner": view.owner,
            "state": state,
            "stop_reason": view.stop_reason,
            "checkpoints": found.checkpoints,
            "last_run": _row(last) if last else None,
            "turns": [{"role": t.role, "text": t.text} for t in found.turns],
        }
        print(json.dumps(data, indent=2))
        return
    since = f" at {_when(last.since)}" if last else ""
    print(
        f"thread {printable(thread)} · owner {printable(view.owner or '?')} · "
        f"{found.checkpoints} checkpoints"
    )
    print(f"last run: {state}{f' ({view.stop_reason})' if view.stop_reason else ''}{since}")
    if view.unfinished:
        print(f"  continue it with: podium resume {thread}")
    for turn in found.turns:
        lead = {"you": "you>", "agent": "agent>", "call": "  call"}[turn.role]
        # Its lines indented under it: a text cannot start a line that looks like a turn.
        print(f"{lead} " + printable(turn.text).replace("\n", "\n" + " " * (len(lead) + 1)))


@app.command("delete")
@handles_errors
def threads_delete(
    thread: Annotated[str, typer.Argument(help="The thread's id.")],
    yes: YesOption = False,
) -> None:
    """Delete a thread's checkpoints (its memories and audit records stay)."""
    from podium import thread_admin
    from podium.loop import run_sync

    if not yes and not typer.confirm(f"delete thread {thread}?", default=False):
        raise typer.Exit(EXIT_USAGE)
    if not run_sync(thread_admin.delete(_agent(), thread)):
        fail(f"there is no thread {thread!r}", "see 'podium threads list' for the ids")
    print(f"deleted thread {thread}")


@app.command("prune")
@handles_errors
def threads_prune(
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            "--older-than-days",
            help="Delete threads whose last run ended this many days ago "
            "(default: PODIUM_THREAD_TTL_DAYS; 30 when neither this nor --keep is given).",
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Keep only the newest N checkpoints of every thread "
            "(default: PODIUM_CHECKPOINTS_KEEP).",
        ),
    ] = None,
    yes: YesOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Delete threads idle past their time (not those that wait), and old checkpoints."""
    from podium.errors import InvalidRequest
    from podium.loop import run_sync
    from podium.storage.pruning import expired, prune_store

    if older_than is not None and older_than < 0:
        raise InvalidRequest(f"--older-than {older_than:g} is negative", "give a number of days")
    use_database(database_url)
    agent = _agent()
    settings = agent.settings
    keep = keep or settings.checkpoints_keep
    days = older_than if older_than is not None else settings.thread_ttl_days
    if days is None and keep is None:
        days = 30.0
    old = expired(agent.storage, days) if days is not None else []
    if old and not yes and not typer.confirm(f"delete {len(old)} threads?", default=False):
        raise typer.Exit(EXIT_USAGE)
    dropped, deleted = run_sync(prune_store(agent.storage, keep, days if old else None))
    if days is not None:
        print(
            f"deleted {deleted} thread{'s' if deleted != 1 else ''} idle for {days:g} days"
            if deleted
            else f"no thread has been idle for {days:g} days"
        )
    if keep is not None:
        print(f"{dropped} checkpoints dropped (the newest {keep} of each thread kept)")
