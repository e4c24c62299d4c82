"""Memory: retrieval quality against a plain chroma collection, ingest rate, recall latency.

Retrieval set, built from BFCL (Apache-2.0, read from ../shared/data/bfcl): the passages are
the functions' names and descriptions (deduplicated), the queries the questions of
simple_python and multiple, each with one relevant passage (its ground-truth function).
podium's path is MemoryStore.recall with the recall node's threshold; the peer is a plain
chroma collection with the same embedder and the same vectors. Latency: MemoryStore.recall
over N synthetic memories, with query embedding timed apart.

    .venv/bin/python benchmarks/memory_retrieval.py [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from podium.memory.embeddings import MiniLMEmbedder
from podium.memory.store import FOREVER, MemoryStore
from podium.planner.context import RunContext

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bfcl"
THRESHOLD = RunContext.__dataclass_fields__["recall_threshold"].default


def retrieval_set() -> tuple[list[str], list[tuple[str, int]]]:
    passages: dict[str, int] = {}
    queries: list[tuple[str, int]] = []
    for category in ("simple_python", "multiple"):
        answers = {}
        for line in (DATA / "possible_answer" / f"BFCL_v4_{category}.json").open():
            row = json.loads(line)
            answers[row["id"]] = next(iter(row["ground_truth"][0]))
        for line in (DATA / f"BFCL_v4_{category}.json").open():
            row = json.loads(line)
            for function in row["function"]:
                text = f"{function['name']}: {function['description']}"
                passages.setdefault(text, len(passages))
                if function["name"] == answers[row["id"]]:
                    queries.append((row["question"][0][-1]["content"], passages[text]))
    return list(passages), queries


def scores(ranked: list[list[str]], relevant: list[str]) -> tuple[float, float]:
    """recall@5 and MRR (over the top 5), judged by memory."""
    hits = [
        r[:5].index(want) + 1 if want in r[:5] else 0
        for r, want in zip(ranked, relevant, strict=True)
    ]
    return (sum(1 for h in hits if h) / len(hits), sum(1 / h for h in hits if h) / len(hits))


def quality(embedder: MiniLMEmbedder, home: Path) -> list[str]:
    import chromadb

    from podium.privacy import chroma_settings

    passages, queries = retrieval_set()
    lines = [f"retrieval set: {len(passages)} passages, {len(queries)} queries"]
    started = time.perf_counter()
    store = MemoryStore(home / "podium", embedder)
    # A near-duplicate merges into the memory already there: both passages are that memory.
    memory_of = [store.remember(text, "bfcl") for text in passages]
    ingest = len(passages) / (time.perf_counter() - started)
    merged = len(passages) - store.stats()["bfcl"]
    lines.append(
        f"podium ingest: {ingest:.0f} memories/s one at a time (embedding, near-"
        f"duplicate check, write); {merged} passages merged as near-duplicates"
    )
    podium_ranked = [[m.id for m in store.recall(q, "bfcl", 5, THRESHOLD)] for q, _ in queries]
    client = chromadb.PersistentClient(path=str(home / "plain"), settings=chroma_settings())
    plain = client.create_collection(
        "plain", metadata={"hnsw:space": "cosine"}, embedding_function=None
    )
    vectors = embedder.embed(passages)
    plain.add(
        ids=[str(i) for i in range(len(passages))],
        embeddings=vectors,  # type: ignore[arg-type]
        documents=passages,
    )
    plain_ranked = [
        [
            memory_of[int(i)]
            for i in plain.query(
                query_embeddings=embedder.embed([q]),  # type: ignore[arg-type]
                n_results=5,
            )["ids"][0]
        ]
        for q, _ in queries
    ]
    relevant = [memory_of[want] for _, want in queries]
    lines.append("\n| retrieval | recall@5 | MRR@5 |\n|---|---:|---:|")
    for name, ranked in (
        (f"podium MemoryStore.recall (threshold {THRESHOLD})", podium_ranked),
        ("plain chroma collection, same embedder", plain_ranked),
    ):
        recall, mrr = scores(ranked, relevant)
        lines.append(f"| {name} | {recall:.3f} | {mrr:.3f} |")
    return lines


def synthetic(count: int, rng: random.Random) -> list[str]:
    subjects = [
        "the deploy",
        "Ana's order",
        "the invoice",
        "the staging database",
        "the quarterly report",
        "a customer ticket",
        "the backup job",
        "the API key",
    ]
    verbs = [
        "was moved to",
        "failed on",
        "is due on",
        "was approved on",
        "needs review by",
        "was archived on",
        "runs again on",
        "was escalated on",
    ]
    return [
        f"Note {i}: {rng.choice(subjects)} {rng.choice(verbs)} day {rng.randint(1, 365)} "
        f"for project {rng.randint(1, 5000)}."
        for i in range(count)
    ]


def latency(embedder: MiniLMEmbedder, home: Path, size: int) -> str:
    rng = random.Random(size)
    texts = synthetic(size, rng)
    store = MemoryStore(home / f"latency-{size}", embedder)
    collection = store._collection("load")
    started = time.perf_counter()
    for start in range(0, size, 1000):
        batch = texts[start : start + 1000]
        collection.add(
            ids=[f"{start + i}:0" for i in range(len(batch))],
            documents=batch,
            embeddings=embedder.embed(batch),  # type: ignore[arg-type]
            metadatas=[
                {"doc": str(start + i), "expires_at": FOREVER, "time": 0.0}
                for i in range(len(batch))
            ],
        )
    load = time.perf_counter() - started
    queries = [
        f"what happened to {t.split(':')[1].split(' for ')[0]}" for t in rng.sample(texts, 200)
    ]
    embed_ms, total_ms = [], []
    for query in queries:
        started = time.perf_counter()
        embedder.embed([query])
        embed_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        store.recall(query, "load", 5)
        total_ms.append((time.perf_counter() - started) * 1000)

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    search = [t - e for t, e in zip(total_ms, embed_ms, strict=True)]
    return (
        f"| {size:,} | {p(total_ms, 50):.1f} | {p(total_ms, 95):.1f} | {p(embed_ms, 50):.1f} "
        f"| {p(search, 50):.1f} | {p(search, 95):.1f} | {size / load:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    options = parser.parse_args()
    embedder = MiniLMEmbedder()
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        for line in quality(embedder, home):
            print(line, flush=True)
        print(
            "\n| memories | recall p50 ms | recall p95 ms | of which embedding p50 ms | "
            "search p50 ms | search p95 ms | bulk load /s |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for size in (int(s) for s in options.sizes.split(",")):
            print(latency(embedder, home, size), flush=True)


if __name__ == "__main__":
    main()
