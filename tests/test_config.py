from __future__ import annotations

from pathlib import Path

import pytest

from podium.config import Settings
from podium.errors import ConfigError


def test_defaults_use_the_router(settings: Settings) -> None:
    assert settings.uses_router and settings.max_steps == 12


def test_environment_and_file_are_read(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated.mkdir(parents=True)
    (isolated / "config.toml").write_text(
        'model = "gpt-4o"\nmax_steps = 4\n[prices.gpt-4o]\ninput = 1.0\noutput = 2.0\n'
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("PODIUM_MAX_STEPS", "7")
    settings = Settings.load()
    assert settings.model == "gpt-4o" and settings.max_steps == 7  # the environment wins
    assert settings.prices["gpt-4o"].output == 2.0 and not settings.uses_router


def test_invalid_toml_names_the_file(isolated: Path) -> None:
    isolated.mkdir(parents=True)
    (isolated / "config.toml").write_text("model = \n")
    with pytest.raises(ConfigError, match=r"config.toml is not valid TOML"):
        Settings.load()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("max_steps = -1\n", "max_steps"),
        ("modle = 'x'\n", "line 1: modle is not a setting"),
        ("max_seconds = 'soon'\n", "max_seconds"),
    ],
)
def test_invalid_values_name_the_field(isolated: Path, content: str, problem: str) -> None:
    isolated.mkdir(parents=True)
    (isolated / "config.toml").write_text(content)
    with pytest.raises(ConfigError, match=problem) as raised:
        Settings.load()
    assert "config.toml" in str(raised.value)  # the file, in the problem or its fix


def test_model_without_key_or_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.planner.models import resolve_model

    monkeypatch.setenv("PODIUM_MODEL", "gpt-4o")
    with pytest.raises(ConfigError, match="needs OPENAI_API_KEY or OPENAI_BASE_URL"):
        resolve_model(Settings.load())


def test_concurrent_runs_can_prepare_a_new_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    failures: list[Exception] = []

    def prepare(settings: Settings) -> None:
        try:
            settings.ensure_home()
        except Exception as error:
            failures.append(error)

    for round_ in range(50):
        monkeypatch.setenv("PODIUM_HOME", str(tmp_path / f"home-{round_}"))
        settings = Settings.load()
        threads = [threading.Thread(target=prepare, args=(settings,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
