"""OpenAI embeddings for memory, over the openai client's real HTTP, replayed from a cassette.

Recorded against the loopback OpenAI-compatible server of tests/planner/openai_server.py,
which answers /v1/embeddings in OpenAI's documented shape (base64 float32 vectors).
"""

from __future__ import annotations

import array
import base64
import json
from pathlib import Path
from typing import Any

import pytest
import vcr

from podium.errors import MemoryUnavailable
from podium.memory.embeddings import OpenAIEmbedder, embedder_from
from podium.memory.store import MemoryStore
from tests.planner.openai_server import serve

CASSETTES = Path(__file__).parent.parent / "cassettes"


def embedding(*vectors: list[float]) -> tuple[int, dict[str, Any]]:
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": base64.b64encode(array.array("f", v).tobytes()).decode(),
        }
        for i, v in enumerate(vectors)
    ]
    return 200, {
        "object": "list",
        "data": data,
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }


def same_input(recorded: Any, sent: Any) -> None:
    assert json.loads(recorded.body)["input"] == json.loads(sent.body)["input"]


recorder = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="once",
    match_on=["method", "path", "input"],
    filter_headers=["authorization"],
    decode_compressed_response=True,
)
recorder.register_matcher("input", same_input)


def test_memory_with_openai_embeddings(tmp_path: Path) -> None:
    script = [
        embedding([1, 0, 0, 0, 0, 0, 0, 0]),
        embedding([0, 1, 0, 0, 0, 0, 0, 0]),
        embedding([0.9, 0.1, 0, 0, 0, 0, 0, 0]),
    ]
    with serve(script) as server, recorder.use_cassette("openai_embeddings.yaml") as cassette:
        url = server.url if not cassette.rewound else "http://127.0.0.1:1/v1"
        embedder = OpenAIEmbedder(
            "text-embedding-3-small", api_key="sk-test", base_url=url, dimension=8
        )
        store = MemoryStore(tmp_path, embedder)
        store.remember("Deploys are on Fridays.", "ops")
        store.remember("Invoices are due in thirty days.", "ops")
        found = store.recall("when do we deploy", "ops", limit=2)
    assert [m.text for m in found] == [
        "Deploys are on Fridays.",
        "Invoices are due in thirty days.",
    ]
    assert embedder.name == "openai:text-embedding-3-small"
    assert "sk-test" not in (CASSETTES / "openai_embeddings.yaml").read_text()


def test_unknown_embedders_are_named() -> None:
    with pytest.raises(MemoryUnavailable, match="unknown embedder 'glove'"):
        embedder_from("glove", None, None)
    with pytest.raises(MemoryUnavailable, match="dimension of embedding model 'mine'"):
        OpenAIEmbedder("mine")
