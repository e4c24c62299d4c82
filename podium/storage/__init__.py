"""Where durable state lives, behind one small interface per kind (base.py).

SQLite files under the home directory are the embedded default (sqlite.py): thread
checkpoints, the run index, the side-effect ledger and the handoff desk. Approvals live in
the thread's checkpoints (a LangGraph interrupt), so they move with them. Postgres
(postgres.py) holds the same in one database that many workers share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podium.config import Settings
    from podium.storage.base import Storage


def storage_for(settings: Settings) -> Storage:
    """The backend the settings name: Postgres with a database URL, else SQLite at home."""
    if settings.database_url is not None:
        from podium.storage.postgres import PostgresStorage

        return PostgresStorage(settings.database_url.get_secret_value())
    from podium.storage.sqlite import SqliteStorage

    return SqliteStorage(settings.ensure_home())
