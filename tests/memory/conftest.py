"""Fixtures of the memory tests: the bundled MiniLM weights as the ONNX runtime's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.memory.onnx_files import onnx_script


@pytest.fixture(scope="session")
def onnx_minilm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled MiniLM weights exported to the ONNX files chroma's runtime reads.

    By the script ``make install`` runs (its export alone: the float model and the tokenizer).
    """
    directory = tmp_path_factory.mktemp("onnx-minilm")
    onnx_script().export(directory)
    return directory


@pytest.fixture(scope="session")
def onnx_minilm_int8(onnx_minilm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same files with the int8 model the script writes beside the float one."""
    directory = tmp_path_factory.mktemp("onnx-minilm-int8")
    shutil.copytree(onnx_minilm, directory, dirs_exist_ok=True)
    onnx_script().quantize(directory)
    return directory
