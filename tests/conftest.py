"""Shared fixtures: an isolated PODIUM_HOME and environment for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.config import Settings

ENVIRONMENT = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PODIUM_CONFIG")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own PODIUM_HOME and no model configuration from the machine."""
    import os

    for name in [*ENVIRONMENT, *(k for k in os.environ if k.startswith("PODIUM_"))]:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "podium-home"
    monkeypatch.setenv("PODIUM_HOME", str(home))
    yield home


@pytest.fixture
def settings(isolated: Path) -> Settings:
    return Settings.load()
