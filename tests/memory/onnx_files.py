"""The script that writes the embedder's ONNX files, for the tests that run it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def onnx_script() -> ModuleType:
    """scripts/onnx_minilm.py, the one ``make install`` runs, as a module."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "onnx_minilm.py"
    spec = importlib.util.spec_from_file_location("onnx_minilm", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script
