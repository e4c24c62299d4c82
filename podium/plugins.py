"""Plugins: tools, validators, chat models and trace sinks published by other packages.

A package lists them under entry-point groups in its pyproject.toml:

    [project.entry-points."podium.tools"]        # a Tool, a typed function, or a list
    [project.entry-points."podium.validators"]   # a guardrails Validator class
    [project.entry-points."podium.models"]       # a function (Settings) -> chat model
    [project.entry-points."podium.sinks"]        # a function (Settings) -> trace sink

A plugin that fails to import is named and skipped; the others still load.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from podium.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from podium.config import Settings
    from podium.tracing.events import Sink

logger = logging.getLogger(__name__)
GROUPS = {
    "tools": "podium.tools",
    "validators": "podium.validators",
    "models": "podium.models",
    "sinks": "podium.sinks",
}


def load(kind: str) -> tuple[dict[str, Any], list[str]]:
    """The plugins of one kind by name, and the problems of those that failed to load."""
    found: dict[str, Any] = {}
    problems: list[str] = []
    for entry in entry_points(group=GROUPS[kind]):
        try:
            found[entry.name] = entry.load()
        except Exception as error:  # a broken plugin must not stop the others
            message = f"plugin {entry.name!r} ({entry.value}) skipped: {error}"
            logger.warning(message)
            problems.append(message)
    return found, problems


def _named(kind: str, name: str, loaded: tuple[dict[str, Any], list[str]] | None = None) -> Any:
    found, problems = loaded or load(kind)
    if name not in found:
        broken = next((p for p in problems if p.startswith(f"plugin {name!r}")), None)
        raise ConfigError(
            broken or f"no {kind[:-1]} plugin named {name!r}",
            f"installed: {', '.join(sorted(found)) or 'none'}; install the package "
            f"that publishes it under {GROUPS[kind]!r}",
        )
    return found[name]


def validator(name: str, **options: Any) -> Any:
    """An instance of the validator plugin ``name`` (options go to its constructor)."""
    return _named("validators", name)(**options)


def model(name: str, settings: Settings) -> BaseChatModel:
    """The chat model the model plugin ``name`` builds from ``settings``."""
    built: BaseChatModel = _named("models", name)(settings)
    return built


def sinks(names: list[str], settings: Settings) -> list[Sink]:
    """The trace sinks the sink plugins ``names`` build from ``settings``."""
    loaded = load("sinks")  # one scan of the installed packages for all of them
    return [_named("sinks", name, loaded)(settings) for name in names]
