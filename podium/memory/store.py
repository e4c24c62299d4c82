"""MemoryStore: long-term memory on chromadb, one collection per tenant namespace."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlparse

from podium.errors import InvalidRequest, MemoryUnavailable
from podium.memory.embeddings import Embedder, default_embedder
from podium.memory.reembed import can_reembed, reads_as_is, reembed
from podium.privacy import chroma_settings
from podium.redaction import redact_secrets, without_secrets

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

FOREVER = 1e15  # expires_at of memories without a TTL (chroma filters need a number)
DUPLICATE_SIMILARITY = 0.97  # at least this close to an existing memory: merged into it
CHUNK_WORDS, CHUNK_OVERLAP = 180, 30  # all-MiniLM-L6-v2 reads 256 word pieces at most


@dataclass(frozen=True)
class Memory:
    """One remembered text, with how close it was to the query (1 = same direction)."""

    id: str
    text: str
    similarity: float
    metadata: dict[str, Any]

    @property
    def provenance(self) -> dict[str, str]:
        """Where the memory came from, for the planner to see.

        ``source``: the parts of a run it holds, or what saved it (memory_save, cli);
        ``thread`` and ``run``: the thread and run that left it ("" if unknown).
        """
        meta = self.metadata
        return {
            "source": str(meta.get("parts") or meta.get("source") or "unknown"),
            "thread": str(meta.get("thread") or ""),
            "run": str(meta.get("run") or ""),
        }


def _collection_name(namespace: str) -> str:
    safe = re.sub(r"[^a-zA-Z0-9_-]", "-", namespace)[:40].strip("-_") or "ns"
    digest = hashlib.sha256(namespace.encode()).hexdigest()[:10]
    return f"memory-{safe}-{digest}"


def chunks(text: str) -> list[str]:
    """``text`` in overlapping pieces the embedder reads whole (one piece if short)."""
    words = text.split()
    if len(words) <= CHUNK_WORDS:
        return [text.strip()]
    step = CHUNK_WORDS - CHUNK_OVERLAP
    return [
        " ".join(words[i : i + CHUNK_WORDS]) for i in range(0, len(words) - CHUNK_OVERLAP, step)
    ]


class MemoryStore:
    """Remember and recall texts per namespace.

    Embedded chromadb under ``path``, or a chroma server at ``url`` (several workers sharing
    one memory).
    """

    def __init__(
        self, path: Path, embedder: Embedder | None = None, url: str | None = None
    ) -> None:
        self.path = path
        self.url = url
        self.embedder: Embedder = embedder or default_embedder()
        self._client: ClientAPI | None = None
        self._collections: dict[str, Collection] = {}
        self._generation = ""  # the last write to the directory this client has seen
        self._held = threading.local()  # .lock: (lock file, whether written) of this thread
        # Namespaces seen holding memories: no count() before each recall once one has.
        self._nonempty: set[str] = set()
        self.clock: Callable[[], float] = time.time  # what "now" is, for TTLs

    @property
    def where(self) -> str:
        """Where the memories live, for messages."""
        return self.url or str(self.path)

    def _open(self) -> ClientAPI:
        if self._client is not None:
            return self._client
        import chromadb

        try:
            if self.url:
                parsed = urlparse(self.url)
                self._client = chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or 8000,
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings(),
                )
                self._client.heartbeat()
            else:
                from podium.memory.heap import scrub_allocations

                scrub_allocations()  # before chroma allocates its index
                self.path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(
                    path=str(self.path), settings=chroma_settings()
                )
        except Exception as error:
            self._client = None
            raise self._unavailable(error) from error
        return self._client

    def _unavailable(self, error: Exception) -> MemoryUnavailable:
        fix = (
            "start the chroma server, or unset PODIUM_CHROMA_URL"
            if self.url
            else "check the directory's permissions, or move it aside to start afresh "
            "(threads and the audit log are kept elsewhere)"
        )
        return MemoryUnavailable(
            f"the memory store at {self.where} cannot be opened: {type(error).__name__}: {error}",
            fix,
        )

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
        recorded = collection.metadata or {}
        same = recorded.get("podium:embedder") in (None, self.embedder.name) and recorded.get(
            "podium:dimension"
        ) in (None, self.embedder.dimension)
        if not same and can_reembed(recorded, self.embedder):
            collection = self._reembedded(namespace, collection)
        elif not same and not reads_as_is(recorded, self.embedder):
            raise MemoryUnavailable(
                f"namespace {namespace!r} was built with embedder "
                f"{recorded.get('podium:embedder')!r} ({recorded.get('podium:dimension')} "
                f"dimensions), not {self.embedder.name!r} ({self.embedder.dimension})",
                "use the same embedder, or forget the namespace and remember again",
            )
        self._collections[namespace] = collection
        return collection

    def _reembedded(self, namespace: str, collection: Collection) -> Collection:
        """``collection``, built with the float MiniLM, with the int8 model's vectors.

        Inside an operation on an embedded store: a reader's lock becomes the writer's for
        the time it takes (nobody reads half-changed vectors), then a reader's again. A new
        generation is recorded before the first vector changes, so that every other client
        opens the store afresh even if this one never ends.
        """
        lock, write = getattr(self._held, "lock", None) or (None, True)
        if lock is None:  # a chroma server: no lock of ours to take
            reembed(collection, self.embedder)
            return collection
        if not write:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _read(lock) != self._generation:  # another process wrote while we waited
                self._reopen(_read(lock))
            # Afresh: another thread of this process may have done it while we waited.
            collection = self._open().get_collection(
                _collection_name(namespace), embedding_function=None
            )
            if (collection.metadata or {}).get("podium:embedder") != self.embedder.name:
                self._written(lock)
                reembed(collection, self.embedder)
                self._written(lock)
        finally:
            if not write:
                fcntl.flock(lock, fcntl.LOCK_SH)
        return collection

    @contextlib.contextmanager
    def _locked(self, write: bool = False) -> Iterator[None]:
        """Hold the memory directory's lock around one operation on an embedded store.

        chromadb's embedded store is one process's: a client keeps the state it opened
        with, so a process reading from it misses what another process wrote since (a
        server never recalls a memory ``podium memory add`` stored), and writing from it
        loses that write (two of three parallel first runs kept). So every operation holds
        the lock (readers share it), and a client older than the last write is opened
        afresh; opening, which creates the store in a fresh home, holds it alone.
        """
        if self.url:  # a chroma server orders its clients itself
            yield
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            lock = open(self.path / "podium.lock", "a+")  # closed by the with below
        except OSError as error:
            raise self._unavailable(error) from error
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            self._held.lock = (lock, write)
            try:
                if self._client is None or _read(lock) != self._generation:
                    fcntl.flock(lock, fcntl.LOCK_EX)  # no reader while the client changes
                    self._reopen(_read(lock))
                    if not write:
                        fcntl.flock(lock, fcntl.LOCK_SH)
                yield
                if write:
                    self._written(lock)
            finally:
                self._held.lock = None
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _written(self, lock: IO[str]) -> None:
        """Record a new generation: every other client opens the store afresh."""
        self._generation = uuid.uuid4().hex
        lock.seek(0)
        lock.truncate()
        lock.write(self._generation)
        lock.flush()

    def _reopen(self, generation: str) -> None:
        """A client that has seen every write up to ``generation`` (the one held, if it has)."""
        if self._client is not None and generation == self._generation:
            return
        if self._client is not None:
            self._client.close()  # type: ignore[attr-defined]
            self._client = None
            self._collections.clear()
        self._open()
        self._generation = generation

    def _near(
        self, collection: Collection, vectors: list[list[float]]
    ) -> tuple[str, dict[str, Any]] | None:
        """The memory at least DUPLICATE_SIMILARITY close to ``vectors``, if there is one.

        Every client here has seen every write before it (``_locked``), so a duplicate
        another process stored is found as well; chromadb raising its own errors is not.
        """
        try:
            near = collection.query(
                query_embeddings=vectors,  # type: ignore[arg-type]
                n_results=1,
                include=["metadatas", "distances"],
            )
        except Exception:  # chromadb raises its own internal errors here
            return None
        if near["ids"][0] and 1 - float((near["distances"] or [[1.0]])[0][0]) >= (
            DUPLICATE_SIMILARITY
        ):
            return near["ids"][0][0], dict((near["metadatas"] or [[{}]])[0][0] or {})
        return None

    def _holds_memories(self, namespace: str, collection: Collection) -> bool:
        if namespace not in self._nonempty and collection.count():
            self._nonempty.add(namespace)
        return namespace in self._nonempty

    def remember(
        self,
        text: str,
        namespace: str = "default",
        metadata: dict[str, Any] | None = None,
        tags: Iterable[str] = (),
        ttl_seconds: float | None = None,
    ) -> str:
        """Store ``text`` (chunked when long); return its id.

        A text nearly identical to a memory already in the namespace is merged into it: the
        existing memory is refreshed and its id returned, nothing is stored twice. Secrets
        (podium.redaction: key shapes and the registered values) are redacted first, whoever
        writes: the store is a sink like any other.
        """
        if not text.strip():
            raise InvalidRequest("cannot remember empty text", "give the text to remember")
        text = redact_secrets(text)
        now = self.clock()
        meta: dict[str, Any] = {"time": now, **without_secrets(metadata or {})}
        meta["expires_at"] = now + ttl_seconds if ttl_seconds else FOREVER
        meta.update({f"tag:{tag}": True for tag in tags})
        pieces = chunks(text)
        vectors = self.embedder.embed(pieces)
        with self._locked(write=True):
            collection = self._collection(namespace)
            near = None
            if len(pieces) == 1 and self._holds_memories(namespace, collection):
                near = self._near(collection, vectors)
            if near is not None:
                piece, existing = near
                times = existing.get("merged", 0)
                merged = {
                    **existing,
                    **meta,
                    "merged": (times if isinstance(times, int) else 0) + 1,
                }
                collection.update(ids=[piece], metadatas=[merged])
                return str(existing.get("doc", piece))
            doc = uuid.uuid4().hex
            collection.add(
                ids=[f"{doc}:{i}" for i in range(len(pieces))],
                documents=pieces,
                embeddings=vectors,  # type: ignore[arg-type]
                metadatas=[{**meta, "doc": doc, "chunk": i} for i in range(len(pieces))],
            )
        self._nonempty.add(namespace)
        return doc

    def recall(
        self, query: str, namespace: str = "default", limit: int = 5, threshold: float = 0.0
    ) -> list[Memory]:
        """The unexpired memories most similar to ``query`` in ``namespace``, best first."""
        if not query.strip():
            return []
        if namespace not in self._nonempty:
            with self._locked():
                if not self._holds_memories(namespace, self._collection(namespace)):
                    return []  # an empty namespace costs no embedding
        vectors = self.embedder.embed([query])  # outside the lock: writers need not wait
        with self._locked():
            # No metadata filter in the query: it turns the index search into a scan.
            # Expired memories are dropped here instead (and purge_expired deletes them).
            found = self._collection(namespace).query(
                query_embeddings=vectors,  # type: ignore[arg-type]
                n_results=limit * 3,  # room for chunks of one document
                include=["documents", "metadatas", "distances"],
            )
        now = self.clock()
        memories: dict[str, Memory] = {}
        for text, meta, distance in zip(
            (found["documents"] or [[]])[0],
            (found["metadatas"] or [[]])[0],
            (found["distances"] or [[]])[0],
            strict=True,
        ):
            metadata = dict(meta or {})
            expires = metadata.get("expires_at", FOREVER)
            if isinstance(expires, int | float) and expires <= now:
                continue
            doc = str(metadata.get("doc", ""))
            similarity = 1.0 - float(distance)
            if similarity >= threshold and doc not in memories:
                memories[doc] = Memory(doc, text or "", similarity, metadata)
        return list(memories.values())[:limit]

    def forget(self, memory_id: str, namespace: str = "default") -> int:
        """Remove one memory (all its chunks); how many pieces went (0: no such memory)."""
        with self._locked(write=True):
            collection = self._collection(namespace)
            ids = collection.get(where={"doc": memory_id}, include=[])["ids"]
            if ids:
                collection.delete(ids=ids)
        return len(ids)

    def listed(self, namespace: str = "default", limit: int = 50) -> list[Memory]:
        """The namespace's memories, newest first (``similarity`` is 0: no query ranked them)."""
        with self._locked():
            found = self._collection(namespace).get(
                where={"chunk": 0}, include=["documents", "metadatas"]
            )
        memories = [
            Memory(str((meta or {}).get("doc", "")), text or "", 0.0, dict(meta or {}))
            for text, meta in zip(found["documents"] or [], found["metadatas"] or [], strict=True)
        ]
        memories.sort(key=lambda m: float(m.metadata.get("time", 0.0)), reverse=True)
        return memories[:limit]

    def forget_where(
        self, namespace: str = "default", *, thread: str | None = None, tag: str | None = None
    ) -> int:
        """Remove the memories of a thread or with a tag; return how many pieces went."""
        where: Any
        if thread is not None:
            where = {"thread": thread}
        elif tag is not None:
            where = {f"tag:{tag}": True}
        else:
            raise InvalidRequest(
                "forget_where needs a thread or a tag", "use forget(memory_id) for one memory"
            )
        with self._locked(write=True):
            collection = self._collection(namespace)
            ids = collection.get(where=where, include=[])["ids"]
            if ids:
                collection.delete(ids=ids)
        return len(ids)

    def purge_expired(self, namespace: str = "default") -> int:
        """Delete the memories whose TTL has passed; return how many pieces went."""
        expired: Any = {"expires_at": {"$lte": self.clock()}}
        with self._locked(write=True):
            collection = self._collection(namespace)
            ids = collection.get(where=expired, include=[])["ids"]
            if ids:
                collection.delete(ids=ids)
        return len(ids)

    def stats(self) -> dict[str, int]:
        """Pieces stored per namespace."""
        result = {}
        with self._locked():
            for collection in self._open().list_collections():
                namespace = (collection.metadata or {}).get("podium:namespace")
                if namespace is not None:
                    result[str(namespace)] = collection.count()
        return result


def _read(lock: IO[str]) -> str:
    """The generation a lock file records: the last write to the store."""
    lock.seek(0)
    return lock.read()
