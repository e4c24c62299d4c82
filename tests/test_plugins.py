"""Plugin groups: validators, chat models and trace sinks from an installed package."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium import plugins
from podium.agent import Agent
from podium.config import Settings
from podium.errors import ConfigError
from podium.guardrails.screens import Check, Screens

SAMPLE = """
from guardrails.validators import FailResult, PassResult, Validator, register_validator
from podium.planner.models.scripted import ScriptedChatModel

RECORDED = []


@register_validator(name="sample/no_digits", data_type="string")
class NoDigits(Validator):
    def _validate(self, value, metadata):
        if any(c.isdigit() for c in str(value)):
            return FailResult(error_message="digits are not allowed")
        return PassResult()


def scripted(settings):
    return ScriptedChatModel(turns=["the answer is 42"], model="sample-scripted")


def recorder(settings):
    return RECORDED.append
"""
ENTRY_POINTS = """
[podium.validators]
sample/no_digits = podium_sample_plugins:NoDigits
[podium.models]
scripted = podium_sample_plugins:scripted
[podium.sinks]
recorder = podium_sample_plugins:recorder
broken = podium_missing_module:recorder
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package installed the way pip leaves it: the module and its dist-info."""
    (tmp_path / "podium_sample_plugins.py").write_text(textwrap.dedent(SAMPLE))
    info = tmp_path / "podium_sample_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: podium-sample-plugins\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("podium_sample_plugins", None)


def test_each_group_is_discovered_and_a_broken_plugin_is_named(installed: Path) -> None:
    validators, _ = plugins.load("validators")
    models, _ = plugins.load("models")
    sinks, problems = plugins.load("sinks")
    assert "sample/no_digits" in validators and "scripted" in models and "recorder" in sinks
    assert len(problems) == 1 and problems[0].startswith("plugin 'broken'")
    assert "podium_missing_module" in problems[0]


def test_plugin_model_sink_and_validator_drive_a_run(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODIUM_MODEL", "plugin:scripted")
    monkeypatch.setenv("PODIUM_SINKS", '["recorder"]')
    screens = Screens(answer=[Check(plugins.validator("sample/no_digits"), "block")])
    agent = Agent([], guards=screens)
    assert agent.model_name == "sample-scripted"
    result = agent.invoke("what is six times seven?")
    assert result.answer == "The answer was withheld by a guard: digits are not allowed"
    import podium_sample_plugins  # type: ignore[import-not-found]

    kinds = [event.kind for event in podium_sample_plugins.RECORDED]
    assert kinds[0] == "run_started" and "guard" in kinds


def test_a_missing_or_broken_plugin_is_a_clear_error(installed: Path) -> None:
    with pytest.raises(ConfigError, match="no model plugin named 'nope'") as error:
        plugins.model("nope", Settings.load())
    assert "installed: scripted" in str(error.value)
    with pytest.raises(ConfigError, match=r"plugin .broken. .* skipped"):
        plugins.sinks(["broken"], Settings.load())
