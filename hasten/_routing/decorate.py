"""``registering``: the decorator form of a ``register(first, function, ...)`` method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..types import DecoratedCallable

__all__ = ["registering"]


def registering(
    register: Callable[..., Any], first: Any, **keywords: Any
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A decorator calling ``register(first, function, **keywords)`` on what it decorates.

    The decorated function is returned unchanged: ``@router.websocket("/ws")`` is
    ``router.add_api_websocket_route("/ws", function)`` with the function still usable.
    """

    def decorator(function: DecoratedCallable) -> DecoratedCallable:
        register(first, function, **keywords)
        return function

    return decorator
