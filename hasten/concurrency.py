"""Thread-pool helpers and per-dependency concurrency limits."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import AbstractContextManager
from contextlib import asynccontextmanager as asynccontextmanager
from typing import TypeVar
from weakref import WeakKeyDictionary

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter, Semaphore
from anyio.lowlevel import RunVar
from starlette.concurrency import iterate_in_threadpool as iterate_in_threadpool
from starlette.concurrency import run_in_threadpool as run_in_threadpool
from starlette.concurrency import run_until_first_complete as run_until_first_complete

__all__ = [
    "asynccontextmanager",
    "contextmanager_in_threadpool",
    "iterate_in_threadpool",
    "run_in_threadpool",
    "run_until_first_complete",
]

_T = TypeVar("_T")

_semaphores: RunVar[WeakKeyDictionary[_DependencyConcurrency, Semaphore]] = RunVar(
    "hasten_dependency_semaphores"
)


class _DependencyConcurrency:
    """How many calls of one dependency may run at once (``Depends(max_concurrency=n)``)."""

    def __init__(self, max_concurrency: int) -> None:
        self.max_concurrency = max_concurrency

    def get_semaphore(self) -> Semaphore:
        """This limit's semaphore in the running event loop (made on first use)."""
        semaphores = _loop_semaphores()
        if self not in semaphores:
            semaphores[self] = Semaphore(self.max_concurrency)
        return semaphores[self]


def _loop_semaphores() -> WeakKeyDictionary[_DependencyConcurrency, Semaphore]:
    """The semaphores of the running event loop: anyio semaphores belong to one loop."""
    try:
        return _semaphores.get()
    except LookupError:
        table: WeakKeyDictionary[_DependencyConcurrency, Semaphore] = WeakKeyDictionary()
        _semaphores.set(table)
        return table


@asynccontextmanager
async def contextmanager_in_threadpool(cm: AbstractContextManager[_T]) -> AsyncGenerator[_T, None]:
    """Enter and exit a sync context manager in the threadpool, from async code.

    The exit runs on its own one-thread limiter and is shielded from cancellation, so
    teardown happens even when the default threadpool is exhausted or the task is cancelled.
    """
    exit_limiter = CapacityLimiter(1)
    value = await run_in_threadpool(cm.__enter__)
    try:
        yield value
    except BaseException as exc:
        with CancelScope(shield=True):
            suppress = await anyio.to_thread.run_sync(
                cm.__exit__, type(exc), exc, exc.__traceback__, limiter=exit_limiter
            )
        if not suppress:
            raise
    else:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(cm.__exit__, None, None, None, limiter=exit_limiter)
