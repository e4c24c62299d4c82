"""WordsEmbedder: a hashing bag-of-words embedder, for tests that need a real store fast.

Not a stand-in for MiniLM's judgement of meaning: texts that share words come out close,
texts that share none orthogonal. Enough to store and recall through a real chromadb
collection without loading torch.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence


class WordsEmbedder:
    """Vectors of hashed word counts (lowercased words of 3+ letters), normalized."""

    name = "test-words"
    dimension = 256

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text (a text without words gets a fixed one)."""
        vectors = []
        for text in texts:
            vector = [0.0] * self.dimension
            for word in re.findall(r"[a-z]{3,}", text.lower()):
                slot = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest())
                vector[slot % self.dimension] += 1.0
            norm = math.sqrt(sum(x * x for x in vector))
            vectors.append([x / norm for x in vector] if norm else [1.0] + [0.0] * 255)
        return vectors
