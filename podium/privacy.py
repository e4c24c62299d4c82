"""Switches off the telemetry of the libraries podium is built on.

chromadb and guardrails-ai both report usage unless told not to. podium tells them, before
any of their objects exist, so that nothing leaves the machine unless a user configures it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chromadb.config import Settings as ChromaSettings


def quiet_environment() -> None:
    """Set the environment switches that the libraries read at import time."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # Not telemetry, but also settled before chromadb or guardrails-ai loads: jsonschema,
    # which both import, checks the "iri" string format with rfc3987_syntax when that is
    # installed, and that package compiles dozens of grammars at import (2 s, on every run).
    # podium checks no IRI with jsonschema: the import fails as if it were not installed.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def chroma_settings() -> ChromaSettings:
    """Return chromadb settings with anonymized telemetry off."""
    quiet_environment()
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def quiet_guardrails() -> None:
    """Turn off guardrails-ai's metrics and remote inference before any Validator exists.

    guardrails-ai reads ``enable_metrics`` from ``~/.guardrailsrc`` (default: on) and, when on,
    each Validator starts an OpenTelemetry exporter to a remote endpoint. podium overrides the
    loaded setting in memory; the user's rc file is left untouched.
    """
    quiet_environment()
    from guardrails.settings import settings

    settings.rc.enable_metrics = False
    settings.rc.use_remote_inferencing = False
    settings.disable_tracing = True
    # A guardrails Guard reloads the rc file when it is built, which would switch metrics back
    # on in any process that also builds one: every load answers "off" from now on.
    from guardrails.classes.rc import RC

    if not getattr(RC.load, "podium_quiet", False):
        original = RC.load

        def load(*args: Any, **kwargs: Any) -> Any:
            rc = original(*args, **kwargs)
            rc.enable_metrics = False
            rc.use_remote_inferencing = False
            return rc

        load.podium_quiet = True  # type: ignore[attr-defined]
        RC.load = staticmethod(load)
