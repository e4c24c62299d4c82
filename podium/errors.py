"""Typed errors: each names what went wrong and what to do about it."""

from __future__ import annotations


class PodiumError(Exception):
    """Base of podium's errors; ``fix`` tells the user what to do."""

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem} (fix: {self.fix})" if self.fix else self.problem


class ConfigError(PodiumError):
    """The configuration (environment or config file) is invalid."""


class InvalidRequest(PodiumError):
    """The request cannot be run as given (empty, too long, malformed)."""


class AbortRun(PodiumError):
    """Raised by a tool to end the run as failed: its side effects are then compensated."""


class ModelUnavailable(PodiumError):
    """The configured chat model cannot be reached or refused the request."""


class HomeNotWritable(PodiumError):
    """PODIUM_HOME cannot be created or written to."""


class ToolDefinitionError(PodiumError):
    """A tool was defined or registered wrongly (a developer's mistake, raised at once)."""


class MemoryUnavailable(PodiumError):
    """The memory store or its embedder cannot be used."""


class PermissionDenied(PodiumError):
    """The principal may not do this (fire an event, act as another, decide an approval)."""


class NotFound(PodiumError):
    """What was asked for does not exist (or is not the caller's to see)."""


class StorageBusy(PodiumError):
    """The state store is busy (another writer holds it): the request may be retried soon."""


class StorageDamaged(PodiumError):
    """A state file is damaged or missing: podium will not guess at an empty history."""


class Conflict(PodiumError):
    """The request came too late for the state it found (a call someone already decided)."""


class StorageUnavailable(PodiumError):
    """The database cannot be reached (down, wrong address): the request may be retried."""


class SchemaOutdated(PodiumError):
    """The database was set up by another version of podium: migrate it first."""


class NoJobQueue(ConfigError):
    """``podium worker`` started with no database: its job queue is in Postgres."""

    def __init__(self) -> None:
        super().__init__(
            "podium worker takes runs from a job queue in Postgres, and no database URL is "
            "set (threads are in SQLite files under the home directory)",
            "set PODIUM_DATABASE_URL=postgresql://user:password@host:port/database or pass "
            "--database-url; on one machine no worker is needed: `podium serve` runs them",
        )
