"""Children forked from the test process, kept off what earlier tests left behind."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any


def forked(target: Callable[..., Any], *args: Any) -> BaseProcess:
    """A child forked from this process running ``target(*args)``, started.

    An object inherited from the parent and collected in the child can hang it: an ONNX
    session an earlier test let go waits, in its destructor, on a thread pool that exists in
    the parent only (a kill test's child was seen stuck there, and the suite with it, since
    multiprocessing joins its children at exit). The parent's garbage is collected first,
    and what is left is frozen while forking, so the child's collector never visits it.
    """
    gc.collect()
    gc.freeze()
    try:
        child = multiprocessing.get_context("fork").Process(target=target, args=args)
        child.start()
    finally:
        gc.unfreeze()
    return child
