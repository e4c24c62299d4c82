"""The memory store's files hold no freed process memory (podium/memory/heap.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# A process that held secrets, then freed them (threads' heaps included), then remembers.
SCRIPT = textwrap.dedent(
    """
    import ctypes, sys, threading
    from pathlib import Path

    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    secret = b"sk-FREED-SECRET-0123456789" * 400

    def hold_and_free() -> None:
        held = []
        for _ in range(300):
            p = libc.malloc(len(secret))
            ctypes.memmove(p, secret, len(secret))
            held.append(p)
        for p in held:
            libc.free(p)

    threads = [threading.Thread(target=hold_and_free) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hold_and_free()

    from podium.memory.store import MemoryStore
    from tests.memory.words import WordsEmbedder

    store = MemoryStore(Path(sys.argv[1]), WordsEmbedder())
    for i in range(3):
        store.remember(f"The on-call rotation changes on day {i}.", "ops")
    """
)


def test_the_index_files_hold_no_freed_memory(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "memory")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    files = [f for f in (tmp_path / "memory").rglob("*") if f.is_file()]
    assert any(f.name == "data_level0.bin" for f in files)
    leaked = {f.name: f.read_bytes().count(b"sk-FREED-SECRET") for f in files}
    assert sum(leaked.values()) == 0, leaked
