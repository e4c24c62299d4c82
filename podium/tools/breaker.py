"""A circuit breaker per tool: after repeated failures, stop calling it for a while."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
    """Opens a tool's circuit after ``threshold`` failures in a row, for ``cooldown`` seconds.

    Then one trial call goes through (half open): success closes the circuit, failure opens
    it again at once. Shared by every run of one agent.
    """

    threshold: int = 5
    cooldown: float = 30.0
    _failures: dict[str, int] = field(default_factory=dict)
    _opened: dict[str, float] = field(default_factory=dict)

    def allows(self, name: str) -> bool:
        """Whether a call to ``name`` may go through now."""
        opened = self._opened.get(name)
        if opened is None:
            return True
        if time.monotonic() - opened >= self.cooldown:
            del self._opened[name]  # half open: one trial
            self._failures[name] = self.threshold - 1
            return True
        return False

    def failures(self, name: str) -> int:
        """Failures in a row so far."""
        return self._failures.get(name, 0)

    def record(self, name: str, ok: bool) -> bool:
        """Count a call's outcome; True when this failure opened the circuit."""
        if ok:
            self._failures.pop(name, None)
            return False
        self._failures[name] = self._failures.get(name, 0) + 1
        if self._failures[name] >= self.threshold and name not in self._opened:
            self._opened[name] = time.monotonic()
            return True
        return False
