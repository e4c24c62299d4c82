"""Moving a namespace built with the float MiniLM to the int8 model, the default since.

The two forms' vectors of one text are close (cosine 0.99 at the median, 0.96 for the worst
text found: BENCHMARKS.md) but not the same. A store built with the float model is
re-embedded from its stored texts, in place, when the int8 model first opens it, and the
embedder recorded with the collection changes last: a run stopped half-way (kill -9
included) leaves the float name recorded, and the next open does the whole namespace again
(a text's int8 vector is the same each time). The whole pass holds the store's lock, and an
interrupted one starts again from the first piece: for a large store (about 3 ms a short
piece, 20 ms a full chunk) the first run after the upgrade waits that long.

Never the other way: the float model (the torch runtime where the ONNX files are missing,
or a process of an older install) reads and writes an int8 store as it is. Moving both ways
would have two such processes on one home re-embed it after each other's every write.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from podium.memory.embeddings import MINILM, MINILM_INT8, Embedder

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

PAGE = 256  # pieces read, embedded and written at a time

log = logging.getLogger(__name__)


def reads_as_is(recorded: dict[str, Any], embedder: Embedder) -> bool:
    """Whether ``embedder`` uses a collection recorded with another embedder as it is."""
    return (
        recorded.get("podium:embedder") == MINILM_INT8
        and embedder.name == MINILM
        and recorded.get("podium:dimension") in (None, embedder.dimension)
    )


def can_reembed(recorded: dict[str, Any], embedder: Embedder) -> bool:
    """Whether a collection recorded with another embedder is one ``embedder`` re-embeds."""
    return (
        recorded.get("podium:embedder") == MINILM
        and embedder.name == MINILM_INT8
        and recorded.get("podium:dimension") in (None, embedder.dimension)
    )


def reembed(collection: Collection, embedder: Embedder) -> int:
    """Give every piece of ``collection`` ``embedder``'s vector, then record its name.

    The caller holds the store's lock alone (no reader sees half the vectors changed).
    Returns how many pieces were re-embedded.
    """
    recorded = dict(collection.metadata or {})
    # Every id first, then pages of them: pages by offset would skip pieces that another
    # client (a chroma server takes no lock of ours) deletes in the meantime.
    ids = collection.get(include=[])["ids"]
    log.warning(
        "re-embedding %d pieces of memory with %s (the store was built with %s)",
        len(ids),
        embedder.name,
        recorded.get("podium:embedder"),
    )
    done = 0
    for start in range(0, len(ids), PAGE):
        page = collection.get(ids=ids[start : start + PAGE], include=["documents"])
        if not page["ids"]:
            continue  # all deleted since
        texts = [text or "" for text in page["documents"] or []]
        collection.update(ids=page["ids"], embeddings=embedder.embed(texts))  # type: ignore[arg-type]
        done += len(page["ids"])
    # chroma refuses its own "hnsw:" keys in a change of metadata (the space stays as built)
    kept = {key: value for key, value in recorded.items() if not key.startswith("hnsw:")}
    collection.modify(metadata={**kept, "podium:embedder": embedder.name})
    return done
