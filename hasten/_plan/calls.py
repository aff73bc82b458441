"""How to call a user function: sync, async, generator or async generator (decided once)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

SYNC, ASYNC, GEN, ASYNC_GEN = 0, 1, 2, 3


def _impartial(func: Any) -> Any:
    while isinstance(func, functools.partial):
        func = func.func
    return func


def _kind_of_function(func: Any) -> int | None:
    for candidate in (_impartial(func), inspect.unwrap(_impartial(func))):
        if inspect.isasyncgenfunction(candidate):
            return ASYNC_GEN
        if inspect.isgeneratorfunction(candidate):
            return GEN
        if inspect.isroutine(candidate) and asyncio.iscoroutinefunction(candidate):
            return ASYNC
    return None


_KINDS: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def call_kind(call: Callable[..., Any] | None) -> int:
    """``SYNC``, ``ASYNC``, ``GEN`` or ``ASYNC_GEN`` for a function, class or callable object."""
    if call is None:
        return SYNC
    if inspect.isfunction(call):  # plain functions: remembered (by identity), they are common
        kind = _KINDS.get(call)
        if kind is None:
            kind = _KINDS[call] = _classify(call)
        return kind
    return _classify(call)


def _classify(call: Callable[..., Any]) -> int:
    kind = _kind_of_function(call)
    if kind is not None:
        return kind
    if inspect.isclass(inspect.unwrap(_impartial(call))):
        return SYNC
    # A callable object (also behind a decorator): what its ``__call__`` is decides.
    for target in (_impartial(call), inspect.unwrap(_impartial(call))):
        dunder = getattr(target, "__call__", None)  # noqa: B004
        kind = _kind_of_function(dunder) if dunder is not None else None
        if kind is not None:
            return kind
    return SYNC
