"""Keeps freed process memory out of the memory store's index files.

chromadb's HNSW index allocates room for more vectors than it holds and writes that room to
``data_level0.bin`` and ``length.bin`` as it found it: uninitialized heap memory, which in a
long-lived process holds whatever was freed there before (tool outputs, requests, keys that
podium redacted everywhere else). Found by grepping every file a run wrote for its secrets.

glibc's M_PERTURB makes every later allocation start filled with one constant byte (and
fills freed memory too), so the unused room is written as that constant. It is set once per
process, before podium's first local chroma store opens. It costs a fill of each allocation
above glibc's per-thread cache size (about 1 KB); smaller ones come from that cache and are
not filled, which the index's buffers never are. On another C library (musl, macOS) there is
no such switch: the memory directory may then hold freed memory, like any process's core
dump would, and should be kept as private as the secrets the process handles.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_PERTURB = -6  # glibc's mallopt parameter
FILL = 0xA5


@functools.cache
def scrub_allocations() -> bool:
    """Have new heap allocations start filled with a constant; whether the C library could."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_PERTURB, FILL))
