"""`podium worker` and `podium db migrate`: running on many machines.

Nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from podium.cli.common import build_agent, checked_policy, handles_errors, stderr
from podium.errors import NoJobQueue

if TYPE_CHECKING:
    from podium.patterns.bus import EventBus

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="postgresql://user:password@host:port/database (default: PODIUM_DATABASE_URL).",
    ),
]

db_app = typer.Typer(help="The Postgres database that many workers share.", no_args_is_help=True)


def use_database(url: str | None) -> None:
    """Make ``--database-url`` the setting every part of this process reads."""
    if url:
        os.environ["PODIUM_DATABASE_URL"] = url


def worker_command(
    database_url: DatabaseOption = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Runs carried out at once.")] = 8,
    triggers: Annotated[
        Path | None, typer.Option(help="A triggers file: its schedules run from the queue.")
    ] = None,
    memory: Annotated[bool, typer.Option("--memory/--no-memory", help="Long-term memory.")] = True,
    policy: Annotated[Path | None, typer.Option(help="A policy file (YAML or TOML).")] = None,
    grace: Annotated[
        float, typer.Option(help="Seconds runs in hand get to finish on SIGTERM.")
    ] = 30.0,
    name: Annotated[str | None, typer.Option(help="This worker's name in logs.")] = None,
    bus: Annotated[
        str | None,
        typer.Option(
            help="module:function returning the EventBus(policy, durable=True) to deliver for."
        ),
    ] = None,
) -> None:
    """Take runs from the Postgres job queue (what `podium serve` enqueues) and carry them out."""
    use_database(database_url)
    checked = checked_policy(policy, None, acting=False)  # said before the worker loads
    if checked.settings.database_url is None:
        raise NoJobQueue()
    import asyncio
    import logging

    from podium.server.triggers import Triggers
    from podium.server.worker import Worker

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    agent = build_agent(memory, checked)
    loaded = Triggers.load(agent, triggers) if triggers else None
    worker = Worker(agent, concurrency, loaded, grace=grace, name=name, bus=load_bus(bus))
    worker.storage.prepare()
    stderr().print(
        f"[dim]worker {worker.name} on {worker.storage!r} · {concurrency} at once · "
        f"{len(loaded.schedules) if loaded else 0} schedules[/]"
    )
    asyncio.run(worker.run())


def load_bus(target: str | None) -> EventBus | None:
    """The bus ``module:function`` builds (the same in every process of the bus)."""
    import importlib

    from podium.errors import ConfigError
    from podium.patterns.bus import EventBus

    if target is None:
        return None
    module, _, function = target.partition(":")
    try:
        built = getattr(importlib.import_module(module), function)()
    except (ImportError, AttributeError, ValueError, TypeError) as error:
        raise ConfigError(
            f"--bus {target}: {error}",
            "give it as module:function, a function of an importable module that returns "
            "the EventBus (e.g. myapp.events:build_bus)",
        ) from None
    if not isinstance(built, EventBus):
        raise ConfigError(
            f"--bus {target} returned a {type(built).__name__}, not an EventBus",
            "make the function return the EventBus its subscribers are on",
        )
    return built


@db_app.command("migrate")
@handles_errors
def migrate(database_url: DatabaseOption = None) -> None:
    """Bring the database's schema to this podium's version (stop workers and servers first)."""
    from podium.config import Settings
    from podium.errors import ConfigError
    from podium.storage import postgres_schema

    use_database(database_url)
    settings = Settings.load()
    if settings.database_url is None:
        raise ConfigError("no database to migrate", "set PODIUM_DATABASE_URL or --database-url")
    url = settings.database_url.get_secret_value()
    before, after = postgres_schema.migrate(url)
    where = postgres_schema.where(url)
    if before == after:
        typer.echo(f"{where}: schema version {after}, nothing to do")
    else:
        typer.echo(f"{where}: schema version {before or 0} -> {after}")
