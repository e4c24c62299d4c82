"""Holds on a store's connections, counted: the first hold of a key opens, the last closes.

A server holds its store for its lifetime; a request handler or a test may hold it again
inside, or beside it on the same event loop. Each hold shares what the first opened, and
what was opened stays open until every hold of it has ended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K")


class Holds(Generic[K, T]):
    """What each key's first hold opened (``held``), shared by its later holds."""

    def __init__(self) -> None:
        self.held: dict[K, T] = {}
        self._count: dict[K, int] = {}
        self._stacks: dict[K, AsyncExitStack] = {}

    @asynccontextmanager
    async def hold(
        self, key: K, opener: Callable[[], AbstractAsyncContextManager[T]]
    ) -> AsyncIterator[None]:
        """Hold ``key``: open it with ``opener`` unless it is held already."""
        if key in self.held:
            self._count[key] += 1  # joined before any await: the holder cannot close it now
        else:
            stack = AsyncExitStack()
            value = await stack.enter_async_context(opener())
            if key in self.held:  # another task of the loop opened it meanwhile: share that
                self._count[key] += 1
                try:
                    await stack.aclose()
                except BaseException:
                    await self._release(key)
                    raise
            else:
                self.held[key], self._count[key], self._stacks[key] = value, 1, stack
        try:
            yield
        finally:
            await self._release(key)

    async def _release(self, key: K) -> None:
        self._count[key] -= 1
        if self._count[key] == 0:
            del self.held[key], self._count[key]
            await self._stacks.pop(key).aclose()
