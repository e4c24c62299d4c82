"""The embedder's int8 model, and stores moving between it and the float model (real chromadb)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from podium.errors import MemoryUnavailable
from podium.memory import reembed
from podium.memory.embeddings import (
    MINILM,
    MINILM_INT8,
    Embedder,
    MiniLMEmbedder,
    OnnxMiniLMEmbedder,
    default_embedder,
    quantized_model,
)
from podium.memory.store import MemoryStore
from tests.memory.onnx_files import onnx_script

pytestmark = pytest.mark.slow

TEXTS = [
    "The deploy window is Friday at 16:00 UTC.",
    "Ana prefers invoices by email.",
    "The staging database runs PostgreSQL 16.",
    "Backups run nightly at 02:00 and are kept for thirty days.",
    "The on-call rotation changes every Monday morning.",
]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_the_int8_model_is_opened_by_default_and_stays_near_the_float_one(
    onnx_minilm_int8: Path,
) -> None:
    int8 = OnnxMiniLMEmbedder(onnx_minilm_int8)
    assert int8.name == MINILM_INT8
    assert default_embedder(onnx_minilm_int8).name == MINILM_INT8
    float_form = OnnxMiniLMEmbedder(onnx_minilm_int8, quantized=False)
    assert float_form.name == MINILM
    near = [cosine(a, b) for a, b in zip(int8.embed(TEXTS), float_form.embed(TEXTS), strict=True)]
    assert int8._function.model._model_path == str(quantized_model(onnx_minilm_int8))
    assert min(near) > 0.97 and max(near) < 0.99999  # near, and not the float model again
    # A text's vector does not depend on the texts embedded beside it (the int8 model
    # quantizes activations over what it is given, padding included).
    alone = int8.embed([TEXTS[1]])[0]
    beside = int8.embed([TEXTS[3] * 8, TEXTS[1]])[1]
    assert alone == beside
    size = quantized_model(onnx_minilm_int8).stat().st_size
    assert size < (onnx_minilm_int8 / "onnx" / "model.onnx").stat().st_size / 3


def test_the_script_writes_the_same_int8_model_again(
    onnx_minilm_int8: Path, tmp_path: Path
) -> None:
    shutil.copytree(onnx_minilm_int8, tmp_path / "again")
    quantized_model(tmp_path / "again").unlink()
    written = onnx_script().quantize(tmp_path / "again")
    assert written.read_bytes() == quantized_model(onnx_minilm_int8).read_bytes()
    assert sorted(p.name for p in (tmp_path / "again" / "onnx").iterdir()) == sorted(
        p.name for p in (onnx_minilm_int8 / "onnx").iterdir()
    )  # nothing half-written left beside it


def test_asking_for_the_int8_model_where_it_is_not_names_the_script(onnx_minilm: Path) -> None:
    assert OnnxMiniLMEmbedder(onnx_minilm).name == MINILM  # only the float model there
    with pytest.raises(MemoryUnavailable, match=r"no int8 model at .*model\.int8\.onnx") as raised:
        OnnxMiniLMEmbedder(onnx_minilm, quantized=True)
    assert "scripts/onnx_minilm.py" in raised.value.fix


def stored(store: MemoryStore, namespace: str) -> list[tuple[str, list[float]]]:
    """Each piece's text and vector as the collection holds them."""
    found = store._collection(namespace).get(include=["documents", "embeddings"])
    vectors = found["embeddings"]
    assert vectors is not None
    return [
        (str(text), list(map(float, vector)))
        for text, vector in zip(found["documents"] or [], vectors, strict=True)
    ]


def holds_vectors_of(store: MemoryStore, namespace: str, embedder: Embedder) -> bool:
    """Whether every piece's vector is ``embedder``'s vector of its text."""
    pieces = stored(store, namespace)
    fresh = embedder.embed([text for text, _ in pieces])
    return all(cosine(v, f) > 0.9999 for (_, v), f in zip(pieces, fresh, strict=True))


def float_store(
    directory: Path, path: Path
) -> tuple[OnnxMiniLMEmbedder, OnnxMiniLMEmbedder, MemoryStore]:
    """The float and int8 embedders, and a store at ``path`` built with the float one."""
    float_form = OnnxMiniLMEmbedder(directory, quantized=False)
    built = MemoryStore(path, float_form)
    for text in TEXTS:
        built.remember(text, "ops")
    return float_form, OnnxMiniLMEmbedder(directory), built


@pytest.mark.parametrize("first", ["recall", "remember"])
def test_a_store_built_with_the_float_model_is_reembedded_for_the_int8_one(
    onnx_minilm_int8: Path, tmp_path: Path, first: str
) -> None:
    float_form, int8, built = float_store(onnx_minilm_int8, tmp_path)
    built.remember(" ".join(["A long runbook line about the failover procedure."] * 60), "ops")
    assert len(stored(built, "ops")) > len(TEXTS) + 1  # the long text is in several pieces

    # A reader (recall) or a writer (remember) is the first to open it with the int8 model.
    opened = MemoryStore(tmp_path, int8)
    if first == "recall":
        found = opened.recall("when can we deploy?", "ops", limit=1)
        assert [m.text for m in found] == [TEXTS[0]]
    else:
        opened.remember("Invoices are due in thirty days.", "ops")
    assert holds_vectors_of(opened, "ops", int8)
    assert not holds_vectors_of(opened, "ops", float_form)
    assert opened._collection("ops").metadata["podium:embedder"] == MINILM_INT8
    # Another process's client sees the change (the lock file's generation moved on).
    assert (
        MemoryStore(tmp_path, int8).recall("who wants invoices by email", "ops")[0].text
        == (TEXTS[1])
    )

    # Never back: the torch runtime (float) reads and writes the int8 store as it is, so
    # two processes of two installs on one home do not re-embed it after each other.
    back = MemoryStore(tmp_path, MiniLMEmbedder())
    assert back.recall("where do the staging data live", "ops", limit=1)[0].text == TEXTS[2]
    back.remember("The VPN certificate expires in March.", "ops")
    assert back._collection("ops").metadata["podium:embedder"] == MINILM_INT8
    pieces = stored(back, "ops")
    fresh = int8.embed([text for text, _ in pieces])
    floats = [t for (t, v), f in zip(pieces, fresh, strict=True) if cosine(v, f) < 0.9999]
    assert floats == ["The VPN certificate expires in March."]  # written as the float model's


class FailsAfter:
    """An embedder that stops after ``calls`` calls: a run ended half-way through."""

    def __init__(self, inner: Embedder, calls: int) -> None:
        self.inner, self.left = inner, calls
        self.name, self.dimension = inner.name, inner.dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self.left == 0:
            raise RuntimeError("stopped half-way")
        self.left -= 1
        return self.inner.embed(texts)


def test_a_reembedding_stopped_half_way_is_done_again_whole(
    onnx_minilm_int8: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    float_form, int8, _ = float_store(onnx_minilm_int8, tmp_path)
    monkeypatch.setattr(reembed, "PAGE", 2)  # three pages: the second one fails

    with pytest.raises(RuntimeError, match="stopped half-way"):
        MemoryStore(tmp_path, FailsAfter(int8, 1)).recall("deploy", "ops")
    half = MemoryStore(tmp_path, float_form)  # still recorded as the float model's
    assert half._collection("ops").metadata["podium:embedder"] == MINILM
    assert not holds_vectors_of(half, "ops", float_form)  # the first page was changed,
    assert not holds_vectors_of(half, "ops", int8)  # and not the others

    whole = MemoryStore(tmp_path, int8)
    assert whole.recall("when can we deploy?", "ops", limit=1)[0].text == TEXTS[0]
    assert holds_vectors_of(whole, "ops", int8)


def test_a_store_of_another_model_is_still_refused(onnx_minilm_int8: Path, tmp_path: Path) -> None:
    class Other:
        name, dimension = "other-embedder", 384

        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return [[1.0] + [0.0] * 383 for _ in texts]

    MemoryStore(tmp_path, Other()).remember("hello", "ns")
    with pytest.raises(MemoryUnavailable, match="built with embedder 'other-embedder'"):
        MemoryStore(tmp_path, OnnxMiniLMEmbedder(onnx_minilm_int8)).recall("hello", "ns")


BUILT_ELSEWHERE = """
import sys
from pathlib import Path
from podium.memory.embeddings import OnnxMiniLMEmbedder
from podium.memory.store import MemoryStore

store = MemoryStore(Path(sys.argv[1]), OnnxMiniLMEmbedder(Path(sys.argv[2]), quantized=False))
for text in sys.argv[3:]:
    store.remember(text, "ops")
"""

KILLED_HALF_WAY = """
import sys, time
from pathlib import Path
from podium.memory import reembed
from podium.memory.embeddings import OnnxMiniLMEmbedder
from podium.memory.store import MemoryStore

class Slow:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0
        self.name, self.dimension = inner.name, inner.dimension
    def embed(self, texts):
        self.calls += 1
        if self.calls == 2:
            print("one page written", flush=True)
            time.sleep(60)
        return self.inner.embed(texts)

reembed.PAGE = 2
MemoryStore(Path(sys.argv[1]), Slow(OnnxMiniLMEmbedder(Path(sys.argv[2])))).recall("x", "ops")
"""


def test_a_reembedding_killed_half_way_is_done_again_whole(
    onnx_minilm_int8: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    float_form = OnnxMiniLMEmbedder(onnx_minilm_int8, quantized=False)
    int8 = OnnxMiniLMEmbedder(onnx_minilm_int8)
    # Built and re-embedded by other processes: this one opens the store only afterwards
    # (one process's clients on one directory share what chroma has read).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    paths = [str(tmp_path), str(onnx_minilm_int8)]
    subprocess.run([sys.executable, "-c", BUILT_ELSEWHERE, *paths, *TEXTS], env=env, check=True)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_HALF_WAY, *paths], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "one page written\n"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    half = MemoryStore(tmp_path, float_form)
    assert half._collection("ops").metadata["podium:embedder"] == MINILM
    assert not holds_vectors_of(half, "ops", float_form)  # one page of int8 vectors
    assert not holds_vectors_of(half, "ops", int8)

    whole = MemoryStore(tmp_path, int8)  # the lock the killed process held is free
    assert whole.recall("when can we deploy?", "ops", limit=1)[0].text == TEXTS[0]
    assert holds_vectors_of(whole, "ops", int8)


def test_another_size_under_the_minilm_names_is_refused(
    onnx_minilm_int8: Path, tmp_path: Path
) -> None:
    class Sized:
        dimension = 3

        def __init__(self, name: str) -> None:
            self.name = name

        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return [[1.0, 0.0, 0.0] for _ in texts]

    MemoryStore(tmp_path / "f", OnnxMiniLMEmbedder(onnx_minilm_int8, quantized=False)).remember(
        "hello", "ns"
    )
    MemoryStore(tmp_path / "q", OnnxMiniLMEmbedder(onnx_minilm_int8)).remember("hello", "ns")
    for built, name in (("f", MINILM_INT8), ("q", MINILM)):  # re-embedded / read as it is
        with pytest.raises(MemoryUnavailable, match=r"\(384 dimensions\), not .* \(3\)"):
            MemoryStore(tmp_path / built, Sized(name)).recall("hello", "ns")


def test_a_corrupt_int8_model_is_named_and_the_script_writes_it_again(
    onnx_minilm_int8: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    directory = tmp_path / "minilm"
    shutil.copytree(onnx_minilm_int8, directory)
    good = quantized_model(directory).read_bytes()
    quantized_model(directory).write_bytes(good[: len(good) // 3])  # a copy cut short
    with pytest.raises(MemoryUnavailable, match=r"model\.int8\.onnx cannot be opened") as raised:
        OnnxMiniLMEmbedder(directory).embed(["hello"])
    assert "scripts/onnx_minilm.py" in raised.value.fix
    script = Path(__file__).resolve().parents[2] / "scripts" / "onnx_minilm.py"
    done = subprocess.run(
        [sys.executable, str(script), str(directory)], capture_output=True, text=True, check=True
    )
    assert f"wrote {quantized_model(directory)}" in done.stdout
    assert "model.onnx is there already" in done.stdout  # the float model was sound
    assert quantized_model(directory).read_bytes() == good
    assert len(OnnxMiniLMEmbedder(directory).embed(["hello"])[0]) == 384


class DeletesBehind:
    """An embedder during whose second page another client deletes the first page's pieces."""

    def __init__(self, inner: Embedder, path: Path, namespace: str) -> None:
        import chromadb

        from podium.memory.store import _collection_name
        from podium.privacy import chroma_settings

        self.inner, self.calls = inner, 0
        self.name, self.dimension = inner.name, inner.dimension
        client = chromadb.PersistentClient(str(path), settings=chroma_settings())
        self.collection = client.get_collection(_collection_name(namespace))
        self.first_page = self.collection.get(include=[])["ids"][: reembed.PAGE]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == 2:
            self.collection.delete(ids=self.first_page)
        return self.inner.embed(texts)


def test_pieces_deleted_during_a_reembedding_leave_none_of_the_rest_behind(
    onnx_minilm_int8: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, int8, _ = float_store(onnx_minilm_int8, tmp_path)
    monkeypatch.setattr(reembed, "PAGE", 2)
    deleting = DeletesBehind(int8, tmp_path, "ops")
    MemoryStore(tmp_path, deleting).recall("deploy", "ops")
    whole = MemoryStore(tmp_path, int8)
    assert len(stored(whole, "ops")) == len(TEXTS) - 2
    assert holds_vectors_of(whole, "ops", int8)  # offsets moved: no piece was skipped


def test_threads_opening_a_float_store_at_once_reembed_it_once(
    onnx_minilm_int8: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import threading

    built = MemoryStore(tmp_path, OnnxMiniLMEmbedder(onnx_minilm_int8, quantized=False))
    for text in TEXTS:
        built.remember(text, "ops")
    shared = MemoryStore(tmp_path, OnnxMiniLMEmbedder(onnx_minilm_int8))
    found: list[str] = []
    start = threading.Barrier(4)

    def recall() -> None:
        start.wait()
        found.append(shared.recall("when can we deploy?", "ops", limit=1)[0].text)

    with caplog.at_level("WARNING", logger="podium.memory.reembed"):
        threads = [threading.Thread(target=recall) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert found == [TEXTS[0]] * 4
    assert sum("re-embedding" in r.getMessage() for r in caplog.records) == 1
