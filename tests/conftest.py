"""Shared fixtures: an isolated PODIUM_HOME and environment for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from podium.config import Settings

if TYPE_CHECKING:
    from tests.postgres import PostgresServer

ENVIRONMENT = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PODIUM_CONFIG")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own PODIUM_HOME and no model configuration from the machine.

    What a test sets in the environment goes with it, however it was set: a command run in
    the test's process (``--database-url`` sets PODIUM_DATABASE_URL) would otherwise reach
    every later test, and the servers later fixtures start (a leaked database URL made a
    served process queue its runs for workers that never came).
    """
    import os

    before = dict(os.environ)
    for name in [*ENVIRONMENT, *(k for k in os.environ if k.startswith("PODIUM_"))]:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "podium-home"
    monkeypatch.setenv("PODIUM_HOME", str(home))
    # Every command a test starts runs in its own process: a resident process started by
    # one would outlive the test (tests/cli/test_resident.py turns it on for itself).
    monkeypatch.setenv("PODIUM_RESIDENT", "0")
    yield home
    monkeypatch.undo()
    for name in set(os.environ) - set(before):
        del os.environ[name]
    os.environ.update(before)


@pytest.fixture
def settings(isolated: Path) -> Settings:
    return Settings.load()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real Postgres server for the whole session (tests/postgres.py).

    Without Postgres the tests that need it fail with the reason (they never skip):
    `make install` installs it (scripts/install-postgres.sh), so its absence is a defect.
    """
    from tests.postgres import PostgresServer

    try:
        server = PostgresServer()
        server.start()
    except (RuntimeError, OSError) as error:
        pytest.fail(f"Postgres could not start: {error}", pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    """The URL of a new empty database on the session's Postgres server."""
    return postgres_server.create_database()
