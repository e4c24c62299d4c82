"""The deployment example, offline (its planner is scripted: it judges the health check)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from examples.deploy.workflow import SAMPLE_APP, build_agent
from podium.cli.main import app as cli
from podium.results import RunResult


@pytest.fixture
def service(tmp_path: Path) -> Path:
    copy = tmp_path / "service"
    shutil.copytree(SAMPLE_APP, copy)
    return copy


def release(service: Path, target: Path, version: str, who: str = "dev") -> RunResult:
    agent = build_agent("staging", version, target, service)
    return agent.invoke("release", principal=agent.policy.principal(who))


def current(target: Path, environment: str = "staging") -> str | None:
    link = target / environment / "current"
    return link.resolve().name if link.is_symlink() else None


def test_a_healthy_release_goes_live_and_its_trace_renders(service: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    result = release(service, target, "1.0.0")
    assert result.answer == "Released 1.0.0 to staging: staging 1.0.0 is healthy."
    assert current(target) == "1.0.0"
    assert [c["name"] for c in result.tool_calls] == [
        "run_checks",
        "run_checks",
        "deploy_staging",
        "health_check",
    ]
    shown = CliRunner().invoke(cli, ["trace", "show", result.trace_id])
    assert shown.exit_code == 0 and "deploy_staging" in shown.output
    assert not list(SAMPLE_APP.rglob("__pycache__"))  # the example's sources stay clean


@pytest.mark.parametrize("fault", ["unhealthy", "hangs"])
def test_a_failing_health_check_rolls_back_to_the_previous_release(
    service: Path, tmp_path: Path, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "target"
    release(service, target, "1.0.0")
    broken = {"port": "eighty"} if fault == "unhealthy" else {"port": 1, "hang_on_health": True}
    (service / "settings.json").write_text(json.dumps(broken))
    monkeypatch.setattr("examples.deploy.workflow.HEALTH_TIMEOUT", 1.0)
    monkeypatch.setattr("examples.deploy.workflow.CHECK_TIMEOUT", 1.0)
    (service / "test_app.py").write_text("print('tests skipped for this release')\n")
    result = release(service, target, "1.1.0")
    assert current(target) == "1.0.0"
    assert not (target / "staging" / "releases" / "1.1.0").exists()
    assert "rolled staging back to 1.0.0" in result.answer
    health = next(c for c in result.tool_calls if c["name"] == "health_check")
    expected = "did not finish within 1s" if fault == "hangs" else "app.py --health failed"
    assert expected in health["output"]


def test_failed_checks_deploy_nothing(service: Path, tmp_path: Path) -> None:
    (service / "app.py").write_text("def broken(:\n")
    result = release(service, tmp_path / "target", "2.0.0")
    assert result.answer.startswith("Checks failed, nothing deployed")
    assert current(tmp_path / "target") is None


def test_production_needs_the_deploy_scope_and_an_approval(service: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    agent = build_agent("production", "1.0.0", target, service)
    denied = agent.invoke("release", principal=agent.policy.principal("dev"))
    deploy = next(c for c in denied.tool_calls if c["name"] == "deploy_production")
    assert deploy["output"] == "permission denied: needs scope deploy"
    assert current(target, "production") is None

    agent = build_agent("production", "1.0.0", target, service)
    waiting = agent.invoke("release", principal=agent.policy.principal("rel"))
    assert waiting.stop_reason == "awaiting_approval"
    assert current(target, "production") is None
    approved = agent.resume(waiting.thread_id, {waiting.pending_approvals[0].call_id: True})
    assert current(target, "production") == "1.0.0"
    assert approved.answer == "Released 1.0.0 to production: production 1.0.0 is healthy."


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_a_target_that_is_not_writable_leaves_nothing_behind(service: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    (target / "staging").mkdir(parents=True)
    (target / "staging").chmod(0o500)
    try:
        result = release(service, target, "1.0.0")
    finally:
        (target / "staging").chmod(0o700)
    assert "cannot deploy to" in result.answer
    assert list((target / "staging").iterdir()) == []


def test_a_target_that_cannot_hold_releases_is_named(service: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("a file where the deploy folder should be")
    result = release(service, target, "1.0.0")
    assert f"cannot deploy to {target / 'staging'}" in result.answer
    assert target.read_text() == "a file where the deploy folder should be"


def test_the_terminal_runner_asks_about_each_waiting_call(
    service: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from examples.terminal import run_at_terminal

    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "y"

    monkeypatch.setattr("builtins.input", answer)
    agent = build_agent("production", "2.0.0", tmp_path / "target", service)
    run_at_terminal(agent, "release", agent.policy.principal("rel"))
    assert asked == ["approve deploy_production({'version': '2.0.0'})? [y/N] "]
    shown = capsys.readouterr().out
    assert shown.startswith("Released 2.0.0 to production") and "podium trace show" in shown


def test_a_version_that_is_a_path_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    """What the user ran: ``--version '../../evil'`` wrote outside releases/."""
    target = tmp_path / "target"
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "examples.deploy.workflow", "--version", "../../evil"]
    done = subprocess.run(
        [*command, "--target", str(target)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "error: version '../../evil' is not a semantic version (MAJOR.MINOR.PATCH)",
        "  fix: give a semantic version, like 1.2.0 or 2.0.0-rc.1",
    ]
    assert done.stdout == "" and not target.exists() and not (tmp_path / "evil").exists()


def test_the_release_tool_refuses_a_version_that_leaves_releases(
    service: Path, tmp_path: Path
) -> None:
    """A planner passing a path as the version gets a tool error; nothing is written."""
    target = tmp_path / "target"
    result = release(service, target, "../../evil")
    deploy = next(c for c in result.tool_calls if c["name"] == "deploy_staging")
    assert "version '../../evil' is not a semantic version" in deploy["output"]
    assert not target.exists() and not (tmp_path / "evil").exists()


def test_the_exit_code_says_whether_it_deployed(
    service: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """0 deployed, 1 stopped (denied, not approved, unhealthy), 2 bad input."""
    from examples.deploy.workflow import main

    target = tmp_path / "target"

    def deploy(*options: str) -> int:  # the command, run in this process: its exit code
        arguments = ["workflow", "--target", str(target), "--app", str(service), *options]
        monkeypatch.setattr(sys, "argv", arguments)
        return main()

    assert deploy("--version", "1.0.0") == 0
    assert deploy("--version", "1.0.0") == 2
    assert "error: release 1.0.0 already exists in staging" in capsys.readouterr().err
    assert deploy("--env", "production", "--version", "1.0.0", "--as", "dev") == 1
    assert "permission denied: needs scope deploy" in capsys.readouterr().out
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert deploy("--env", "production", "--version", "1.0.0", "--as", "rel") == 1
    assert "not approved" in capsys.readouterr().out
    assert current(target, "production") is None
    assert deploy("--version", "1.0.1", "--as", "nobody") == 2
    assert capsys.readouterr().err.startswith("error: principal 'nobody' is not in the policy")
    monkeypatch.setattr("examples.deploy.workflow.HEALTH_TIMEOUT", 1.0)
    (service / "settings.json").write_text(json.dumps({"port": "eighty"}))
    (service / "test_app.py").write_text("print('tests skipped for this release')\n")
    assert deploy("--version", "1.1.0") == 1
    assert "rolled staging back to 1.0.0" in capsys.readouterr().out
    assert current(target) == "1.0.0"
