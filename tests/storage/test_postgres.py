"""The Postgres backend with a real server: runs, crash resume, and bad input named clearly."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from podium.config import Settings
from podium.errors import SchemaOutdated, StorageUnavailable
from podium.storage import postgres_schema
from podium.storage.postgres import PostgresStorage
from tests.planner.test_saga import checkout_agent
from tests.postgres import PostgresServer
from tests.servers import free_port


def test_an_agent_keeps_its_threads_in_postgres(database_url: str, isolated: Path) -> None:
    from podium.agent import Agent

    settings = Settings.load(database_url=database_url, audit=False)
    agent = Agent(builtins=True, settings=settings)
    assert isinstance(agent.storage, PostgresStorage)
    assert agent.invoke("what is 2 + 3", thread_id="t").answer.endswith("→ 5")
    again = Agent(builtins=True, settings=settings)  # another process would see the same
    view = asyncio.run(again.athread("t"))
    assert view.exists and view.stop_reason == "answered"
    index = again.storage.runs().get("t")
    assert index is not None and index.state == "done"
    assert not (isolated / "threads.sqlite").exists()


def _killed_mid_checkout(url: str, effects: Path) -> None:
    from podium.tracing.events import Event, ToolCalled

    def die(event: Event) -> None:
        if isinstance(event, ToolCalled) and event.name == "charge":  # it completed, recorded
            os.kill(os.getpid(), signal.SIGKILL)

    checkout_agent(effects, [die], storage=PostgresStorage(url)).invoke(
        "check out", thread_id="checkout"
    )


@pytest.mark.slow
def test_a_run_killed_mid_way_resumes_from_postgres_without_repeating(
    database_url: str, tmp_path: Path
) -> None:
    effects = tmp_path / "effects.log"
    PostgresStorage(database_url).prepare()
    child = multiprocessing.get_context("spawn").Process(
        target=_killed_mid_checkout, args=(database_url, effects)
    )
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    agent = checkout_agent(effects, storage=PostgresStorage(database_url))
    assert asyncio.run(agent.athread("checkout")).unfinished
    result = agent.resume("checkout")
    assert result.answer == "done: receipt for 42, total 42"
    assert effects.read_text().splitlines() == ["charged 42"]


def test_an_unreachable_database_is_one_line_naming_the_host() -> None:
    port = free_port()
    storage = PostgresStorage(f"postgresql://ana:hunter2@127.0.0.1:{port}/podium")
    with pytest.raises(StorageUnavailable) as raised:
        storage.ledger().get("k")
    assert f"cannot reach the database at 127.0.0.1:{port}/podium" in raised.value.problem
    assert "hunter2" not in str(raised.value) and "\n" not in raised.value.problem
    assert raised.value.problem.endswith("Connection refused"), raised.value.problem
    assert "PODIUM_DATABASE_URL" in raised.value.fix


def test_a_url_that_is_not_postgres_is_refused() -> None:
    with pytest.raises(StorageUnavailable, match="is not a Postgres URL"):
        PostgresStorage("sqlite:///tmp/x.db")


def test_an_older_schema_is_refused_with_the_command_then_migrated(database_url: str) -> None:
    import psycopg

    PostgresStorage(database_url).prepare()
    with psycopg.connect(database_url, autocommit=True) as db:  # as podium 1 left it
        db.execute(
            "DROP TABLE podium_run_events, podium_run_results, podium_dead_jobs, "
            "podium_run_stops, podium_bus_events, podium_bus_deliveries"
        )
        db.execute("DELETE FROM podium_schema WHERE version > 1")
    postgres_schema._READY.clear()  # as a new process would find it
    with pytest.raises(SchemaOutdated) as raised:
        PostgresStorage(database_url).prepare()
    latest = postgres_schema.LATEST
    assert f"schema version 1, this podium needs version {latest}" in raised.value.problem
    assert "podium db migrate" in raised.value.fix
    assert postgres_schema.migrate(database_url) == (1, latest)
    PostgresStorage(database_url).ledger().put("k", "tool", "done")


def test_a_newer_schema_asks_for_an_upgrade(database_url: str) -> None:
    import psycopg

    PostgresStorage(database_url).prepare()
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute("INSERT INTO podium_schema VALUES (99)")
    postgres_schema._READY.clear()
    with pytest.raises(SchemaOutdated, match="newer than this podium knows"):
        PostgresStorage(database_url).prepare()


def test_without_a_postgres_server_its_tests_fail_and_say_why(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    environment = {**os.environ, "POSTGRES_BIN": str(tmp_path / "nowhere")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp",
         str(tmp_path / "run"), "tests/storage/test_contract.py::test_the_ledger_keeps_"
         "what_completed_by_key"],
        cwd=root, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode != 0, done.stdout
    assert "1 passed, 1 error" in done.stdout and "skipped" not in done.stdout, done.stdout
    assert "no Postgres server is installed" in done.stdout and "make install" in done.stdout


@pytest.mark.slow
def test_a_crash_of_the_test_server_keeps_every_commit_a_durable_database_acknowledged(
    postgres_server: PostgresServer,
) -> None:
    # The server commits asynchronously for speed; a crash of it lost the last writes it had
    # acknowledged (a worker's effect gone while its call was reported done).
    import psycopg

    url = postgres_server.create_database(durable=True)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE written (n int PRIMARY KEY)")
        for n in range(2_000):  # each its own commit, the last just before the crash
            db.execute("INSERT INTO written VALUES (%s)", (n,))
    postgres_server.restart()
    with psycopg.connect(url) as db:
        assert db.execute("SELECT count(*) FROM written").fetchone() == (2_000,)


def test_a_server_that_can_lose_acknowledged_writes_is_named(
    postgres_server: PostgresServer,
) -> None:
    # A worker logs these at its start: the promises across a crash of Postgres need both on.
    loose = PostgresStorage(postgres_server.create_database()).durability_gaps()
    assert [gap.split(" ")[0] for gap in loose] == ["synchronous_commit", "fsync"], loose
    assert "set it on" in loose[0] and "acknowledged" in loose[0]
    durable = PostgresStorage(postgres_server.create_database(durable=True)).durability_gaps()
    assert [gap.split(" ")[0] for gap in durable] == ["fsync"]  # (the test server's, for speed)


def test_calls_decided_one_at_a_time_by_separate_agents_run_once_all_are(
    database_url: str, isolated: Path
) -> None:
    # Each resume is another process's in production (a worker, a server): the decisions
    # given before wait in Postgres's checkpoints until the last call is decided.
    from podium.agent import Agent
    from podium.planner.approvals import Approval
    from tests.planner.test_reliability import add, agent, approval_script, deploy, drop_table, ran

    ran.clear()
    settings = Settings.load(database_url=database_url, audit=False)
    model = approval_script()  # (one script: a new one would plan the round again)

    def fresh() -> Agent:
        return agent(model, add, deploy, drop_table, settings=settings)

    fresh().invoke("ship it", thread_id="pg-two")
    first = fresh().resume("pg-two", {"c-deploy": Approval(approved=True, by="rel")})
    assert first.stop_reason == "awaiting_approval" and ran == []
    assert [r.call_id for r in first.pending_approvals] == ["c-drop"]
    done = fresh().resume("pg-two", {"c-drop": Approval(approved=False, by="dba")})
    assert done.ok and ran == ["deploy 2.0"], done.answer
