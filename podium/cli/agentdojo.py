"""`podium eval --agentdojo [SUITE]`: AgentDojo's suites with podium's agent, per layer."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


def _model() -> BaseChatModel | None:
    """The configured chat model, or None for the scripted obedient model (offline)."""
    from podium.config import Settings
    from podium.planner.models import resolve_model

    settings = Settings.load()
    return None if settings.uses_router else resolve_model(settings)


def agentdojo_command(
    suite: str | None, layers: list[str] | None, limit: int | None, approver: str = "nobody"
) -> None:
    """Run the suites and print, per layer, benign utility, utility under attack, attack success."""
    from podium.errors import ConfigError
    from podium.evals.agentdojo import APPROVERS, LAYERS, SUITES, run_suite

    if importlib.util.find_spec("agentdojo") is None:
        raise ConfigError("the agentdojo package is not installed", "pip install 'podium[dev]'")
    if suite is not None and suite not in SUITES:
        raise ConfigError(f"unknown AgentDojo suite {suite!r}", f"use one of {', '.join(SUITES)}")
    unknown = sorted(set(layers or ()) - set(LAYERS))
    if unknown:
        raise ConfigError(f"unknown layers {unknown}", f"use some of {', '.join(LAYERS)}")
    if approver not in APPROVERS:
        raise ConfigError(f"unknown approver {approver!r}", f"use one of {', '.join(APPROVERS)}")
    chosen = tuple(layer for layer in LAYERS if not layers or layer in layers)
    model = _model()
    typer.echo(
        f"model: {'ScriptedObedientModel (offline)' if model is None else type(model).__name__}"
    )
    for name in [suite] if suite else list(SUITES):
        scores = run_suite(name, chosen, model, limit, approver=approver)
        typer.echo(f"\n{name}\n| layer | benign utility | utility under attack | attack success |")
        typer.echo("|---|---:|---:|---:|")
        for layer, score in scores.items():
            typer.echo(score.row(layer))
        if approver != "nobody":
            typer.echo(f"\napprovals asked of the {approver} in the attacked runs")
            typer.echo("| layer | approvals asked | declined (not the task's own call) |")
            typer.echo("|---|---:|---:|")
            for layer, score in scores.items():
                typer.echo(score.approvals(layer))
