"""The ledger of side effects: what completed, by idempotency key, so it never runs twice."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path


class Ledger:
    """Completed side-effecting calls (and compensations), kept in SQLite under the home dir.

    A call is recorded when it completes, before the run moves on; on resume, a recorded
    call returns its recorded output instead of running again. A process killed between a
    tool's completion and its record can still repeat that one call: tools get the
    idempotency key to guard against even that.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, tool TEXT NOT NULL, "
                "output TEXT NOT NULL, at REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, key: str) -> str | None:
        """The recorded output of ``key``, if it completed."""
        with self._lock, self._connect() as db:
            row = db.execute("SELECT output FROM effects WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, tool: str, output: str) -> None:
        """Record that ``key`` completed with ``output``."""
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO effects VALUES (?, ?, ?, ?)",
                (key, tool, output, time.time()),
            )
