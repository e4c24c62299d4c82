"""Processes sharing one embedded memory store: each sees what the others wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from podium.memory.store import MemoryStore
from tests.memory.words import WordsEmbedder

ROOT = Path(__file__).resolve().parents[2]
REMEMBER_ELSEWHERE = (
    "import sys; from pathlib import Path; from podium.memory.store import MemoryStore; "
    "from tests.memory.words import WordsEmbedder; "
    "print(MemoryStore(Path(sys.argv[1]), WordsEmbedder()).remember(sys.argv[2], 'ops'))"
)


def remember_elsewhere(path: Path, text: str) -> str:
    """Store ``text`` from another process, as `podium memory add` beside a server does."""
    done = subprocess.run(
        [sys.executable, "-c", REMEMBER_ELSEWHERE, str(path), text],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def test_a_store_already_open_recalls_what_another_process_wrote_since(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path, WordsEmbedder())
    store.remember("Backups run nightly at two.", "ops")
    assert len(store.recall("backups nightly", "ops", 10)) == 1  # the client is open now
    elsewhere = remember_elsewhere(tmp_path, "Deploys happen on Friday afternoon.")
    found = {m.text for m in store.recall("deploys friday backups", "ops", 10)}
    assert found == {"Backups run nightly at two.", "Deploys happen on Friday afternoon."}
    assert next(m.text for m in store.listed("ops")) == "Deploys happen on Friday afternoon."
    assert store.stats() == {"ops": 2}
    # and a duplicate of it is merged into it, not stored twice
    assert store.remember("Deploys happen on Friday afternoon.", "ops") == elsewhere
    assert store.stats() == {"ops": 2}
