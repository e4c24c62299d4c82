"""The deployment workflow: run the checks, release a version, check its health, roll back.

Releases live under ``<target>/<environment>/releases/<version>``; ``current`` is a symbolic
link switched atomically, so a failed step never leaves a half-switched service. Deploying
to production needs the ``deploy`` scope and a person's approval (policy.yaml). A version is
a semantic version (``1.2.0``, ``2.0.0-rc.1``): nothing else may name a folder.

    python -m examples.deploy.workflow --env staging --version 1.0.0 --as dev

Exit codes: 0 deployed and healthy; 1 stopped (checks failed, permission denied, not
approved, the release could not be written, or the health check failed and it was rolled
back); 2 bad input (a version that is not semantic or is already released, a principal the
policy does not know).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from examples.terminal import bad_input, run_at_terminal
from podium.agent import Agent
from podium.errors import PodiumError
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.results import RunResult
from podium.tools.registry import Tool, tool

HERE = Path(__file__).resolve().parent
SAMPLE_APP = HERE / "sample_app"
POLICY = HERE / "policy.yaml"
CHECK_TIMEOUT = HEALTH_TIMEOUT = 10.0
Environment = Literal["staging", "production"]
# Semantic versioning 2.0.0 (semver.org): no slash and no empty part, so never a path.
_NUMBER = r"(?:0|[1-9]\d*)"
_PRERELEASE = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_BUILD = r"[0-9a-zA-Z-]+"
VERSION = re.compile(
    rf"{_NUMBER}\.{_NUMBER}\.{_NUMBER}"
    rf"(?:-{_PRERELEASE}(?:\.{_PRERELEASE})*)?(?:\+{_BUILD}(?:\.{_BUILD})*)?"
)
VERSION_FIX = "give a semantic version, like 1.2.0 or 2.0.0-rc.1"


class BadVersion(ValueError):
    """A version that cannot name a release: not semantic, or a path out of ``releases/``."""


def release_folder(target: Path, environment: str, version: str) -> Path:
    """Where ``version`` lives; a BadVersion unless it is semantic and stays in ``releases/``."""
    if not VERSION.fullmatch(version):
        raise BadVersion(f"version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    releases = target / environment / "releases"
    folder = releases / version
    if not folder.resolve().is_relative_to(releases.resolve()):
        raise BadVersion(f"version {version!r} would leave {releases}")
    return folder


def _run(command: list[str], cwd: Path, timeout: float) -> str:
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},  # leave the sources as they are
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{' '.join(command[1:])} did not finish within {timeout:g}s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{' '.join(command[1:])} failed: {tail[0]}")
    return done.stdout.strip()


def _current(target: Path, environment: str) -> str | None:
    link = target / environment / "current"
    return link.resolve().name if link.is_symlink() else None


def _switch(target: Path, environment: str, version: str | None) -> None:
    """Point ``current`` at ``version`` (or remove it) in one atomic rename."""
    link = target / environment / "current"
    if version is None:
        link.unlink(missing_ok=True)
        return
    release_folder(target, environment, version)  # current never points out of releases/
    staged = link.with_name(".current.new")
    staged.unlink(missing_ok=True)
    staged.symlink_to(Path("releases") / version)
    os.replace(staged, link)


def release(app: Path, target: Path, environment: str, version: str) -> str:
    """Copy ``app`` in as a new release and make it current; on failure leave no trace."""
    folder = release_folder(target, environment, version)
    previous = _current(target, environment)
    try:
        if folder.exists():
            raise RuntimeError(f"release {version} already exists in {environment}")
        shutil.copytree(app, folder, ignore=shutil.ignore_patterns("__pycache__"))
        _switch(target, environment, version)
    except OSError as error:
        shutil.rmtree(folder, ignore_errors=True)  # nothing half-copied stays behind
        raise RuntimeError(
            f"cannot deploy to {target / environment}: {error.strerror or error}"
        ) from None
    return f"deployed {version} to {environment} (previous: {previous or 'none'})"


def undo(target: Path, environment: str, result: str) -> None:
    """Compensation of a release: point ``current`` back at the one before."""
    previous = result.rsplit("(previous: ", 1)[-1].rstrip(")")
    _switch(target, environment, None if previous == "none" else previous)


def health(target: Path, environment: str) -> str:
    """Run the current release's health check, within its timeout."""
    current = target / environment / "current"
    if not current.is_symlink():
        raise RuntimeError(f"nothing is deployed to {environment}")
    _run([sys.executable, "app.py", "--health"], current.resolve(), HEALTH_TIMEOUT)
    return f"{environment} {current.resolve().name} is healthy"


def roll_back(target: Path, environment: str) -> str:
    """Make the release before the current one current again, and drop the current one."""
    releases = target / environment / "releases"
    current = _current(target, environment)
    older = sorted(p.name for p in releases.iterdir() if p.name != current)
    _switch(target, environment, older[-1] if older else None)
    if current:
        shutil.rmtree(releases / current, ignore_errors=True)
    return f"rolled {environment} back to {older[-1] if older else 'nothing'}"


def workflow_tools(app: Path, target: Path) -> list[Tool]:
    """The workflow's tools for the service in ``app``, deploying under ``target``."""

    @tool(scopes=["checks"])
    def run_checks(check: Literal["tests", "lint"]) -> str:
        """Run the service's tests, or its lint (every file must compile)."""
        if check == "tests":
            return _run([sys.executable, "test_app.py"], app, CHECK_TIMEOUT)
        for source in sorted(app.rglob("*.py")):
            try:
                compile(source.read_text(encoding="utf-8"), str(source), "exec")
            except SyntaxError as error:
                raise RuntimeError(
                    f"lint failed: {source.name}:{error.lineno}: {error.msg}"
                ) from None
        return "lint passed"

    def undo_staging(result: str) -> None:
        undo(target, "staging", result)

    def undo_production(result: str) -> None:
        undo(target, "production", result)

    @tool(scopes=["deploy:staging"], side_effects=True, compensate=undo_staging)
    def deploy_staging(version: str) -> str:
        """Deploy a version of the service to staging."""
        return release(app, target, "staging", version)

    @tool(scopes=["deploy"], side_effects=True, compensate=undo_production, risk="high")
    def deploy_production(version: str) -> str:
        """Deploy a version of the service to production."""
        return release(app, target, "production", version)

    @tool(scopes=["checks"], timeout=HEALTH_TIMEOUT + 5)
    def health_check(environment: Environment) -> str:
        """Check the health of the release now current in an environment."""
        return health(target, environment)

    @tool(scopes=["deploy:staging"], side_effects=True)
    def rollback(environment: Environment) -> str:
        """Go back to the release before the current one."""
        return roll_back(target, environment)

    return [run_checks, deploy_staging, deploy_production, health_check, rollback]


def release_planner(environment: Environment, version: str) -> ScriptedChatModel:
    """A scripted planner for the workflow: checks at once, deploy, health, then answer.

    The steps are fixed; its one judgement is to roll back when the health check fails,
    which the offline router cannot make.
    """
    deploy = "deploy_production" if environment == "production" else "deploy_staging"

    def after_health(messages: list[BaseMessage]) -> AIMessage:
        result = messages[-1]
        if isinstance(result, ToolMessage) and result.status == "success":
            return AIMessage(content=f"Released {version} to {environment}: {result.content}.")
        return calls(call("rollback", environment=environment))

    def finish(messages: list[BaseMessage]) -> AIMessage:
        done = [m for m in messages if isinstance(m, ToolMessage)]
        return AIMessage(content=f"Release of {version} failed; {done[-1].content}.")

    def after_deploy(messages: list[BaseMessage]) -> AIMessage:
        result = messages[-1]
        if isinstance(result, ToolMessage) and result.status == "success":
            return calls(call("health_check", environment=environment))
        return AIMessage(content=f"Release of {version} stopped: {result.content}")

    def after_checks(messages: list[BaseMessage]) -> AIMessage:
        failed = [m for m in messages[-2:] if isinstance(m, ToolMessage) and m.status != "success"]
        if failed:
            return AIMessage(content=f"Checks failed, nothing deployed: {failed[0].content}")
        return calls(call(deploy, version=version))

    return ScriptedChatModel(
        turns=[
            calls(call("run_checks", check="tests"), call("run_checks", check="lint")),
            after_checks,
            after_deploy,
            after_health,
            finish,
        ],
        model="scripted-release-planner",
    )


def build_agent(
    environment: Environment, version: str, target: Path, app: Path = SAMPLE_APP
) -> Agent:
    """The workflow's agent, with the example's policy and default guards."""
    return Agent(
        workflow_tools(app, target),
        model=release_planner(environment, version),
        policy=POLICY,
    )


def exit_code(result: RunResult) -> int:
    """0 when the release went live and passed its health check, 1 when the run stopped."""
    healthy = any(c["name"] == "health_check" and c["status"] == "ok" for c in result.tool_calls)
    return 0 if result.stop_reason == "answered" and healthy else 1


def main(argv: list[str] | None = None) -> int:
    """Run the workflow from the command line, asking at the terminal for approvals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=["staging", "production"], default="staging")
    parser.add_argument("--version", required=True, help="a semantic version, like 1.2.0")
    parser.add_argument("--as", dest="who", default="dev", help="a principal of policy.yaml")
    parser.add_argument("--target", type=Path, default=Path("deploy-target"))
    parser.add_argument("--app", type=Path, default=SAMPLE_APP, help="the service to release")
    options = parser.parse_args(argv)
    try:
        folder = release_folder(options.target, options.env, options.version)
    except BadVersion as error:
        return bad_input(str(error), VERSION_FIX)
    if folder.exists():
        return bad_input(
            f"release {options.version} already exists in {options.env} ({folder})",
            "give a new version (a release is never overwritten)",
        )
    agent = build_agent(options.env, options.version, options.target, options.app)
    try:
        principal = agent.policy.principal(options.who)
    except PodiumError as error:
        return bad_input(error.problem, error.fix)
    return exit_code(run_at_terminal(agent, "release", principal))


if __name__ == "__main__":
    sys.exit(main())
