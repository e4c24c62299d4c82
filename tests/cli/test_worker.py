"""`podium worker`, `podium db migrate` and `podium threads prune` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner()


def test_a_worker_without_a_database_says_why_in_one_line() -> None:
    result = runner.invoke(app, ["worker", "--no-memory"])
    assert result.exit_code != 0
    assert "job queue in Postgres" in result.output and "PODIUM_DATABASE_URL" in result.output
    assert "Traceback" not in result.output


def test_prune_keeps_the_newest_checkpoints_of_each_thread(isolated: Path) -> None:
    from langchain_core.messages import AIMessage

    from podium.agent import Agent
    from podium.planner.models.scripted import ScriptedChatModel

    agent = Agent(model=ScriptedChatModel(turns=[AIMessage(content="ok")], repeat_last=True))
    for turn in range(3):
        assert agent.invoke(f"turn {turn}", thread_id="t").answer == "ok"
    first = runner.invoke(app, ["threads", "prune", "--keep", "2"])
    assert first.exit_code == 0, first.output
    assert "idle" not in first.stdout  # --keep alone deletes no thread
    dropped = int(first.stdout.split()[0])
    assert dropped > 0 and "checkpoints dropped" in first.stdout
    again = runner.invoke(app, ["threads", "prune", "--keep", "2"])
    assert again.stdout.startswith("0 checkpoints dropped")
    assert agent.invoke("turn 3", thread_id="t").answer == "ok"  # the thread goes on


def test_migrate_sets_up_a_new_database_then_has_nothing_to_do(database_url: str) -> None:
    first = runner.invoke(app, ["db", "migrate", "--database-url", database_url])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["db", "migrate", "--database-url", database_url])
    assert again.exit_code == 0 and "nothing to do" in again.stdout


def test_prune_deletes_threads_idle_past_their_time_to_live(isolated: Path) -> None:
    import asyncio
    import time

    from langchain_core.messages import AIMessage

    from podium.agent import Agent
    from podium.planner.models.scripted import ScriptedChatModel

    agent = Agent(model=ScriptedChatModel(turns=[AIMessage(content="ok")], repeat_last=True))
    agent.invoke("old", thread_id="old")
    time.sleep(0.5)
    agent.invoke("new", thread_id="new")
    result = runner.invoke(app, ["threads", "prune", "--older-than-days", "0.000004", "--yes"])
    assert result.exit_code == 0, result.output  # 0.000004 days: 0.35 s
    assert result.stdout.startswith("deleted 1 thread idle"), result.stdout
    assert [r.thread_id for r in agent.storage.runs().in_state("done")] == ["new"]
    old, new = (asyncio.run(agent.athread(t)) for t in ("old", "new"))
    assert old.stop_reason is None and new.stop_reason == "answered"  # its checkpoints went too


def test_a_bus_option_that_names_no_bus_says_why_in_one_line(database_url: str) -> None:
    missing = runner.invoke(
        app, ["worker", "--no-memory", "--database-url", database_url, "--bus", "no_such:build"]
    )
    assert missing.exit_code != 0 and "--bus no_such:build" in missing.output
    assert "module:function" in missing.output and "Traceback" not in missing.output
    wrong = runner.invoke(
        app, ["worker", "--no-memory", "--database-url", database_url, "--bus", "os:getcwd"]
    )
    assert wrong.exit_code != 0 and "not an EventBus" in wrong.output


def test_a_bus_option_that_builds_an_in_process_bus_says_to_ask_for_a_durable_one(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plain_bus.py").write_text(
        "from podium.guardrails.policy import Policy\n"
        "from podium.patterns.bus import EventBus\n"
        "def build():\n"
        "    return EventBus(Policy())\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["worker", "--no-memory", "--database-url", database_url, "--bus", "plain_bus:build"]
    result = runner.invoke(app, argv)  # --database-url sets PODIUM_DATABASE_URL: still plain
    assert result.exit_code == 2, result.output
    assert "this bus is in-process" in result.output and "durable=True" in result.output
