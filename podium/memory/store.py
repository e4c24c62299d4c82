"""MemoryStore: long-term memory on chromadb, one collection per tenant namespace."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.errors import MemoryUnavailable
from podium.memory.embeddings import Embedder, MiniLMEmbedder
from podium.privacy import chroma_settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection


@dataclass(frozen=True)
class Memory:
    """One remembered text, with how close it was to the query (1 = same direction)."""

    id: str
    text: str
    similarity: float
    metadata: dict[str, Any]


def _collection_name(namespace: str) -> str:
    safe = re.sub(r"[^a-zA-Z0-9_-]", "-", namespace)[:40].strip("-_") or "ns"
    digest = hashlib.sha256(namespace.encode()).hexdigest()[:10]
    return f"memory-{safe}-{digest}"


class MemoryStore:
    """Remember and recall texts per namespace, in an embedded chromadb under ``path``."""

    def __init__(self, path: Path, embedder: Embedder | None = None) -> None:
        self.path = path
        self.embedder: Embedder = embedder or MiniLMEmbedder()
        self._client: ClientAPI | None = None
        self._collections: dict[str, Collection] = {}

    def _open(self) -> ClientAPI:
        if self._client is None:
            import chromadb

            try:
                self.path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(
                    path=str(self.path), settings=chroma_settings()
                )
            except Exception as error:
                raise MemoryUnavailable(
                    f"the memory store at {self.path} cannot be opened: {error}",
                    "check the directory's permissions, or move it aside to start afresh",
                ) from error
        return self._client

    def _collection(self, namespace: str) -> Collection:
        if namespace in self._collections:
            return self._collections[namespace]
        collection = self._open().get_or_create_collection(
            _collection_name(namespace),
            embedding_function=None,
            metadata={
                "podium:namespace": namespace,
                "podium:embedder": self.embedder.name,
                "podium:dimension": self.embedder.dimension,
                "hnsw:space": "cosine",
            },
        )
        recorded = (collection.metadata or {}).get("podium:embedder")
        if recorded not in (None, self.embedder.name):
            raise MemoryUnavailable(
                f"namespace {namespace!r} was built with embedder {recorded!r}, "
                f"not {self.embedder.name!r}",
                "use the same embedder, or forget the namespace and remember again",
            )
        self._collections[namespace] = collection
        return collection

    def remember(
        self, text: str, namespace: str = "default", metadata: dict[str, Any] | None = None
    ) -> str:
        """Store ``text``; return its id."""
        if not text.strip():
            raise ValueError("cannot remember empty text")
        memory_id = uuid.uuid4().hex
        meta = {"time": time.time(), **(metadata or {})}
        self._collection(namespace).add(
            ids=[memory_id],
            documents=[text],
            embeddings=self.embedder.embed([text]),  # type: ignore[arg-type]
            metadatas=[meta],
        )
        return memory_id

    def recall(
        self, query: str, namespace: str = "default", limit: int = 5, threshold: float = 0.0
    ) -> list[Memory]:
        """The memories most similar to ``query`` in ``namespace``, best first."""
        collection = self._collection(namespace)
        if not query.strip() or collection.count() == 0:
            return []
        found = collection.query(
            query_embeddings=self.embedder.embed([query]),  # type: ignore[arg-type]
            n_results=min(limit, collection.count()),
            include=["documents", "metadatas", "distances"],
        )
        memories = []
        for memory_id, text, meta, distance in zip(
            found["ids"][0],
            (found["documents"] or [[]])[0],
            (found["metadatas"] or [[]])[0],
            (found["distances"] or [[]])[0],
            strict=True,
        ):
            similarity = 1.0 - float(distance)
            if similarity >= threshold:
                memories.append(Memory(memory_id, text or "", similarity, dict(meta or {})))
        return memories

    def forget(self, memory_id: str, namespace: str = "default") -> None:
        """Remove one memory."""
        self._collection(namespace).delete(ids=[memory_id])
