"""podium switches off the telemetry of chromadb and guardrails-ai itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json
from podium.guardrails.validators import PromptInjection
from guardrails.settings import settings
from guardrails.utils.hub_telemetry_utils import HubTelemetry
validator = PromptInjection()
validator.validate("hello", {})
from podium.privacy import chroma_settings
exporter = HubTelemetry._instance is not None
from guardrails import Guard
guard = Guard()  # reloads the user's rc file when built
print(json.dumps({
    "enable_metrics": settings.rc.enable_metrics,
    "guard_metrics": guard._allow_metrics_collection,
    "validator_telemetry_disabled": validator._disable_telemetry,
    "hub_exporter_created": exporter,
    "chroma_telemetry": chroma_settings().anonymized_telemetry,
}))
"""


def test_telemetry_is_off_even_when_the_user_rc_turns_it_on(tmp_path: Path) -> None:
    (tmp_path / ".guardrailsrc").write_text("enable_metrics=true\nuse_remote_inferencing=true\n")
    output = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert json.loads(output.strip().splitlines()[-1]) == {
        "enable_metrics": False,
        "guard_metrics": False,
        "validator_telemetry_disabled": True,
        "hub_exporter_created": False,
        "chroma_telemetry": False,
    }


def test_guardrails_loads_without_compiling_the_iri_grammars() -> None:
    # jsonschema, under guardrails-ai, compiled rfc3987_syntax's grammars at every import:
    # seconds of each run's start, for a format check podium never makes.
    import subprocess
    import sys

    probe = (
        "import sys, podium.guardrails.base\n"
        "print(sys.modules.get('rfc3987_syntax') is not None)"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert output.strip() == "False"
