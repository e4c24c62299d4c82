"""`podium threads` and `podium resume`, as a person uses them after a few runs."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner(env={"COLUMNS": "200"})


def test_threads_list_show_delete() -> None:
    assert "no threads yet" in runner.invoke(app, ["threads", "list"]).stdout
    first = runner.invoke(app, ["run", "--no-memory", "--thread", "t-one", "what is 6 * 7"])
    assert first.exit_code == 0, first.output
    runner.invoke(app, ["run", "--no-memory", "--thread", "t-two", "what is 2 + 2"])
    listed = runner.invoke(app, ["threads", "list"])
    assert listed.exit_code == 0 and "t-one" in listed.stdout and "t-two" in listed.stdout
    rows = [
        json.loads(line)
        for line in runner.invoke(app, ["threads", "list", "--json"]).stdout.splitlines()
    ]
    assert [r["thread_id"] for r in rows] == ["t-two", "t-one"]  # newest first
    shown = runner.invoke(app, ["threads", "show", "t-one"])
    assert shown.exit_code == 0, shown.output
    assert "you> what is 6 * 7" in shown.stdout
    assert 'call calculator(expression="6 * 7") -> 42' in shown.stdout
    assert "checkpoints" in shown.stdout and "last run: ended" in shown.stdout
    nothing = runner.invoke(app, ["resume", "t-one"])
    assert nothing.exit_code == 2 and "has nothing to resume" in nothing.stderr
    deleted = runner.invoke(app, ["threads", "delete", "t-one", "--yes"])
    assert deleted.exit_code == 0 and "deleted thread t-one" in deleted.stdout
    gone = runner.invoke(app, ["threads", "show", "t-one"])
    assert gone.exit_code == 2 and "there is no thread 't-one'" in gone.stderr
    assert "t-one" not in runner.invoke(app, ["threads", "list"]).stdout


def test_threads_prune_keeps_recent_threads() -> None:
    runner.invoke(app, ["run", "--no-memory", "--thread", "t-new", "what is 2 + 2"])
    kept = runner.invoke(app, ["threads", "prune", "--older-than", "1", "--yes"])
    assert kept.exit_code == 0 and "no thread has been idle for 1 days" in kept.stdout
    pruned = runner.invoke(app, ["threads", "prune", "--older-than", "0", "--yes"])
    assert pruned.exit_code == 0 and "deleted 1 thread" in pruned.stdout
    assert "no threads yet" in runner.invoke(app, ["threads", "list"]).stdout
    bad = runner.invoke(app, ["threads", "prune", "--older-than", "-1"])
    assert bad.exit_code == 2 and "is negative" in bad.stderr


def test_resume_of_an_unknown_thread() -> None:
    result = runner.invoke(app, ["resume", "nope"])
    assert result.exit_code == 2 and "there is no thread 'nope'" in result.stderr
