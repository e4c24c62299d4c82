"""The embedder's model in int8 against the float model: memory, time, and recall.

Memory and time: each model in a fresh process (max RSS only grows), opened through
podium's own embedder, then 20 embeddings of one short text. Recall: the retrieval set of
benchmarks/memory_retrieval.py (BFCL simple_python and multiple: each function's name and
description a memory, each question a query, its ground-truth function the right memory).
Also: how often the two models rank the same memory first, and the cosine between the two
models' vectors of one text.

The choice of quantization (one scale per tensor or per output channel) was made on the
cosine to the float vectors over the first 1500 prompts of promptshield train, the first
table (``--choice``): tuned on; the recall set was not used to choose.

    .venv/bin/python benchmarks/onnx_int8.py [--choice]
"""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import resource, sys, time
from podium.memory.embeddings import OnnxMiniLMEmbedder
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
embedder = OnnxMiniLMEmbedder(quantized=sys.argv[1] == "1")
embedder.embed(["open the model"])
opened = time.perf_counter() - start
text = ["what did I decide about the quarterly report for the Berlin office?"]
start = time.perf_counter()
for _ in range(20):
    embedder.embed(text)
each = (time.perf_counter() - start) / 20
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{embedder.name}|{before:.0f}|{after:.0f}|{opened:.3f}|{each * 1000:.1f}")
"""


def recall() -> None:
    import numpy as np
    from memory_retrieval import retrieval_set  # this folder's: the same set, same truth

    from podium.memory.embeddings import OnnxMiniLMEmbedder

    memories, pairs = retrieval_set()
    queries, answers = [q for q, _ in pairs], [a for _, a in pairs]
    ranked = {}
    vectors = {}
    for quantized in (False, True):
        embedder = OnnxMiniLMEmbedder(quantized=quantized)
        m = np.array(embedder.embed(memories))
        q = np.array(embedder.embed(queries))
        vectors[quantized] = (m, q)
        ranked[quantized] = np.argsort(-(q @ m.T), axis=1)
    truth = np.array(answers)
    print(
        f"\n{len(queries)} queries over {len(memories)} memories (BFCL simple_python + multiple)\n"
    )
    print("| model | recall@1 | recall@5 | MRR@5 |")
    print("|---|---:|---:|---:|")
    for quantized, order in ranked.items():
        at1 = float(np.mean(order[:, 0] == truth))
        places = [
            list(row[:5]).index(t) + 1 if t in row[:5] else 0
            for t, row in zip(truth, order, strict=True)
        ]
        at5 = float(np.mean([p > 0 for p in places]))
        mrr = float(np.mean([1 / p if p else 0.0 for p in places]))
        print(f"| {'int8' if quantized else 'float'} | {at1:.3f} | {at5:.3f} | {mrr:.3f} |")
    same = float(np.mean(ranked[False][:, 0] == ranked[True][:, 0]))
    cosines = np.concatenate([np.sum(vectors[False][i] * vectors[True][i], axis=1) for i in (0, 1)])
    print(
        f"\nsame first memory: {same:.3f}; cosine float/int8 of the same text: "
        f"min {cosines.min():.4f}, median {np.median(cosines):.4f}"
    )


def choice() -> None:
    """Cosine to the float vectors, per tensor against per channel, on the tuning text."""
    import importlib.util
    import json
    import os
    import tempfile
    from pathlib import Path

    import numpy as np

    from podium.memory.embeddings import ONNX_DIRECTORY, OnnxMiniLMEmbedder

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("onnx_minilm", root / "scripts/onnx_minilm.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # the quantization make install runs, per_channel aside
    data = root.parent / "shared" / "data" / "injection"
    lines = (data / "promptshield_train.jsonl").read_text().splitlines()[:1500]
    texts = [json.loads(line)["prompt"] for line in lines]
    reference = np.array(OnnxMiniLMEmbedder(quantized=False).embed(texts))
    print("| int8 scales | cosine min | 5th percentile | median |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "onnx"
        folder.mkdir()
        for name in os.listdir(ONNX_DIRECTORY / "onnx"):
            if name.endswith((".json", ".txt")) or name == "model.onnx":
                os.symlink(ONNX_DIRECTORY / "onnx" / name, folder / name)
        for label, per_channel in (("per tensor", False), ("per channel (kept)", True)):
            script.quantize(Path(scratch), per_channel=per_channel)
            vectors = np.array(OnnxMiniLMEmbedder(Path(scratch), quantized=True).embed(texts))
            cosine = np.sum(reference * vectors, axis=1)
            print(
                f"| {label} | {cosine.min():.4f} | {np.percentile(cosine, 5):.4f} "
                f"| {np.median(cosine):.4f} |"
            )
    print()


def main() -> None:
    print("| model | max RSS before (MB) | after (MB) | open + first (s) | an embedding (ms) |")
    print("|---|---:|---:|---:|---:|")
    for quantized in ("0", "1"):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, quantized], capture_output=True, text=True, check=True
        ).stdout.strip()
        print("| " + " | ".join(out.split("|")) + " |")
    if "--choice" in sys.argv:  # after the children: their max RSS would start at ours
        choice()
    recall()


if __name__ == "__main__":
    main()
