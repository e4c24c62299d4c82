"""What opening the embedder's ONNX model costs in memory, by runtime option.

Each option runs in a fresh process (max RSS only grows): open the optimized model that
``make install`` writes, embed one short text 20 times, and print max RSS before and after,
the time to open and the time per embedding.

    .venv/bin/python benchmarks/onnx_memory.py
"""

from __future__ import annotations

import subprocess
import sys

VARIANTS = {
    "default": {},
    "no memory arena": {"arena": False},
    "no prepacking": {"prepack": False},
    "neither": {"arena": False, "prepack": False},
}

CHILD = """
import resource, sys, time
import numpy as np
import onnxruntime as ort
from podium.memory.embeddings import ONNX_DIRECTORY, optimized_model

arena, prepack = sys.argv[1] == "1", sys.argv[2] == "1"
options = ort.SessionOptions()
options.log_severity_level = 3
options.enable_cpu_mem_arena = arena
if not prepack:
    options.add_session_config_entry("session.disable_prepacking", "1")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
session = ort.InferenceSession(
    str(optimized_model(ONNX_DIRECTORY)), providers=["CPUExecutionProvider"], sess_options=options
)
opened = time.perf_counter() - start
ids = np.ones((1, 16), dtype=np.int64)
feed = {i.name: ids for i in session.get_inputs()}
start = time.perf_counter()
for _ in range(20):
    session.run(None, feed)
each = (time.perf_counter() - start) / 20
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{before:.0f}|{after:.0f}|{opened:.3f}|{each * 1000:.1f}")
"""


def main() -> None:
    print("| option | max RSS before (MB) | after (MB) | open (s) | an embedding (ms) |")
    print("|---|---:|---:|---:|---:|")
    for name, settings in VARIANTS.items():
        flags = [str(int(settings.get(key, True))) for key in ("arena", "prepack")]
        out = subprocess.run(
            [sys.executable, "-c", CHILD, *flags], capture_output=True, text=True, check=True
        ).stdout.strip()
        print(f"| {name} | " + " | ".join(out.split("|")) + " |")


if __name__ == "__main__":
    main()
