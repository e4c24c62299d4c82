"""The Postgres backend's schema: podium's tables, LangGraph's and the job queue's, versioned.

A new database is set up on first use (under an advisory lock, so that workers starting
together set it up once). A database another version of podium set up is never changed
behind anyone's back: an older schema is refused with the command that migrates it
(``podium db migrate``), a newer one with the advice to upgrade this machine's podium.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from podium.errors import SchemaOutdated, StorageUnavailable

if TYPE_CHECKING:
    import psycopg

SETUP_LOCK = 7_346_117_001  # the advisory lock held while a database is set up or migrated

# Each entry is one version of podium's own tables; a migration only ever adds to the list.
MIGRATIONS: list[str] = [
    # 1: the run index, the side-effect ledger, handoff desks, trigger firings
    """
    CREATE TABLE podium_runs (
        thread text PRIMARY KEY, run text NOT NULL, owner text NOT NULL,
        request text NOT NULL, principal text NOT NULL, state text NOT NULL,
        calls jsonb NOT NULL, since double precision NOT NULL);
    CREATE INDEX podium_runs_state ON podium_runs (state, since);
    CREATE TABLE podium_effects (
        key text PRIMARY KEY, tool text NOT NULL, output text NOT NULL,
        at double precision NOT NULL);
    CREATE TABLE podium_desk_owners (thread text PRIMARY KEY, agent text NOT NULL);
    CREATE TABLE podium_desk_turns (
        id bigserial PRIMARY KEY, thread text NOT NULL, said text NOT NULL);
    CREATE INDEX podium_desk_turns_thread ON podium_desk_turns (thread, id);
    CREATE TABLE podium_firings (
        id bigserial PRIMARY KEY, at double precision NOT NULL, firing jsonb NOT NULL);
    """,
    # 2: runs taken by workers: what they showed as they went, their results, and the
    # jobs whose payload could not be read (moved aside with the reason)
    """
    CREATE TABLE podium_run_events (
        run text NOT NULL, seq bigserial, event jsonb NOT NULL, PRIMARY KEY (run, seq));
    CREATE TABLE podium_run_results (
        run text PRIMARY KEY, thread text NOT NULL, result jsonb NOT NULL,
        at double precision NOT NULL);
    CREATE TABLE podium_dead_jobs (
        id bigserial PRIMARY KEY, job_id bigint, task text NOT NULL, payload jsonb NOT NULL,
        reason text NOT NULL, at double precision NOT NULL);
    CREATE TABLE podium_run_stops (
        run text PRIMARY KEY, mode text NOT NULL, at double precision NOT NULL);
    """,
    # 3: the event bus when it is durable: each event once (its key), and each
    # subscriber's delivery of it once
    """
    CREATE TABLE podium_bus_events (
        id text PRIMARY KEY, topic text NOT NULL, payload jsonb NOT NULL,
        chain jsonb NOT NULL, at double precision NOT NULL);
    CREATE TABLE podium_bus_deliveries (
        event text NOT NULL, agent text NOT NULL, delivery jsonb NOT NULL,
        at double precision NOT NULL, PRIMARY KEY (event, agent));
    """,
]
LATEST = len(MIGRATIONS)

_READY: set[str] = set()
_READYING = threading.Lock()


def where(url: str) -> str:
    """The database ``url`` names, as ``host:port/database`` (never its password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # an unparseable URL is named as it is, without what follows '@'
        return url.rsplit("@", 1)[-1]
    host = parts.get("host") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"


def unreachable(url: str, error: BaseException) -> StorageUnavailable:
    """The one-line error for a database that cannot be reached."""
    # psycopg's first line ends in the cause ("... port 5432 failed: Connection refused");
    # the lines after it are hints, said better by the fix below.
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    reason = lines[0].rsplit("failed: ", 1)[-1] if lines else type(error).__name__
    return StorageUnavailable(
        f"cannot reach the database at {where(url)}: {reason}",
        "check that Postgres runs there and accepts connections from this machine, and the "
        "host, port, user, password and database name in PODIUM_DATABASE_URL "
        "(or --database-url)",
    )


def connect(url: str, **options: Any) -> psycopg.Connection[Any]:
    """A connection to ``url``; an unreachable database raises StorageUnavailable."""
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=10, **options)
    except psycopg.OperationalError as error:
        raise unreachable(url, error) from None
    except psycopg.ProgrammingError as error:  # a URL psycopg cannot parse
        raise StorageUnavailable(
            f"PODIUM_DATABASE_URL is not a database URL ({error})",
            "give it as postgresql://user:password@host:port/database",
        ) from None


def version(connection: psycopg.Connection[Any]) -> int | None:
    """The schema version of podium's tables, or None in a database podium never set up."""
    found = connection.execute("SELECT to_regclass('podium_schema')").fetchone()
    if found is None or found[0] is None:
        return None
    row = connection.execute("SELECT max(version) FROM podium_schema").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def prepare(url: str) -> None:
    """Set up a new database, once per process; refuse one of another schema version."""
    with _READYING:
        if url in _READY:
            return
        with connect(url, autocommit=True) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK,))
            try:
                found = version(connection)
                if found is None:
                    _apply(connection, 0)
                else:
                    _check(url, found)
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))
        _READY.add(url)


def _check(url: str, found: int) -> None:
    if found < LATEST:
        raise SchemaOutdated(
            f"the database at {where(url)} has podium's schema version {found}, this podium "
            f"needs version {LATEST}",
            "stop every podium worker and server on it, then run `podium db migrate` "
            "(with the same PODIUM_DATABASE_URL or --database-url)",
        )
    if found > LATEST:
        raise SchemaOutdated(
            f"the database at {where(url)} has podium's schema version {found}, newer than "
            f"this podium knows ({LATEST})",
            "upgrade podium on this machine to the version the other machines run",
        )


def migrate(url: str) -> tuple[int | None, int]:
    """Bring the database to the latest schema; (version before, version after)."""
    with connect(url, autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK,))
        try:
            found = version(connection)
            _apply(connection, found or 0)
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))
    with _READYING:
        _READY.add(url)
    return found, LATEST


def _apply(connection: psycopg.Connection[Any], start: int) -> None:
    """Apply podium's migrations after ``start``, and LangGraph's and the queue's setup."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row, tuple_row

    connection.execute("CREATE TABLE IF NOT EXISTS podium_schema (version integer NOT NULL)")
    for number, migration in enumerate(MIGRATIONS[start:], start=start + 1):
        with connection.transaction():
            connection.execute(migration)  # our own constant SQL
            connection.execute("INSERT INTO podium_schema VALUES (%s)", (number,))
    # LangGraph's own tables, with its own migrations (it needs dict rows, autocommit).
    connection.row_factory = dict_row
    PostgresSaver(connection).setup()
    connection.row_factory = tuple_row
    _queue_schema(connection)


def _queue_schema(connection: psycopg.Connection[Any]) -> None:
    """Procrastinate's tables, when the queue is installed and the database has none yet."""
    try:
        from procrastinate.schema import SchemaManager
    except ImportError:  # the queue is optional: only workers need it
        return
    found = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    if found is None or found[0] is None:
        connection.execute(SchemaManager.get_schema())
