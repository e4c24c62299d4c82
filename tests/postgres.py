"""A real Postgres server for the tests: Debian's binaries, a temporary cluster on loopback.

``make install`` installs the server (scripts/install-postgres.sh); the tests start their
own cluster in a temporary directory on a free port (``trust`` authentication, loopback
only; fsync and synchronous commit off for speed) and stop it at the end. A database for a
test that crashes the server is made ``durable``: with synchronous commit off, a crash loses
the last commits the server had acknowledged, as no production database does. Postgres
refuses to run as root: as root the cluster belongs to the ``postgres`` user and its
commands run through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.servers import free_port, wait_for_port


def binaries() -> Path | None:
    """The directory of Postgres's server binaries (initdb, postgres), if installed.

    ``POSTGRES_BIN`` names it for a server installed elsewhere.
    """
    if os.environ.get("POSTGRES_BIN"):
        given = Path(os.environ["POSTGRES_BIN"])
        return given if (given / "initdb").exists() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """A Postgres cluster of its own, started on a free loopback port."""

    def __init__(self) -> None:
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError(
                "no Postgres server is installed (initdb not found): run `make install`, "
                "which runs scripts/install-postgres.sh"
            )
        self.root = Path(tempfile.mkdtemp(prefix="podium-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    def _command(self, *arguments: str) -> list[str]:
        assert self.bin is not None
        command = [str(self.bin / arguments[0]), *arguments[1:]]
        return ["runuser", "-u", "postgres", "--", *command] if self.as_root else command

    def _run(self, *arguments: str) -> None:
        done = subprocess.run(self._command(*arguments), capture_output=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{arguments[0]} failed: {done.stderr.decode()[-2000:]}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        log = open(self.root / "postgres.log", "ab")
        self.process = subprocess.Popen(
            self._command(
                "postgres",
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
            ),
            stdout=log,
            stderr=log,
        )
        wait_for_port(self.port, self.process, seconds=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # accepting TCP is not yet accepting logins
            probe = subprocess.run(
                ["psql", self.url("postgres"), "-c", "select 1"], capture_output=True, timeout=30
            )
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"Postgres did not accept logins: {self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back sessions; ``immediate``: as a crash would)."""
        if self.process is None:
            return
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.process.wait(timeout=60)
        self.process = None

    def restart(self) -> None:
        """Stop the server as a crash would, then start it again on the same port."""
        self.stop("immediate")
        self.start()

    def log_tail(self) -> str:
        """The end of the server's log."""
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def url(self, database: str) -> str:
        """The URL of ``database`` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None, durable: bool = False) -> str:
        """A new empty database; its URL.

        ``durable``: its sessions commit synchronously, so that a crash (``restart``) keeps
        every commit the server acknowledged, as Postgres's default does.
        """
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists is None:
                connection.execute(f'CREATE DATABASE "{name}"')
            if durable:
                connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
        return self.url(name)

    def close(self) -> None:
        """Stop the server and remove its files."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
