"""Background tasks, run after the response has been sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.background import BackgroundTasks as StarletteBackgroundTasks
from typing_extensions import ParamSpec

from .telemetry._api import operation

__all__ = ["BackgroundTasks"]

P = ParamSpec("P")


class BackgroundTasks(StarletteBackgroundTasks):
    """Functions to call once the response is sent; declare it as an endpoint parameter.

    ``add_task`` is typed with a ``ParamSpec``, so type checkers verify the arguments.
    """

    def add_task(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue ``func(*args, **kwargs)`` (sync or async) to run after the response."""
        super().add_task(func, *args, **kwargs)

    async def __call__(self) -> None:
        for task in self.tasks:
            # A ``fastapi.background_task`` span when telemetry traces the request.
            with operation("background_task", task.func):
                await task()
