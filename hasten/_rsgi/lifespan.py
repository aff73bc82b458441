"""The app's ASGI lifespan, driven by Granian's RSGI hooks ``__rsgi_init__``/``__rsgi_del__``.

Granian calls both hooks with the worker's event loop while the loop is *not* running: before
it starts serving and after it stopped. ``Lifespan.startup`` starts the app's lifespan as a
task and runs the loop until the app reports ``lifespan.startup.complete``; the task stays
suspended in ``receive`` while the worker serves, and ``Lifespan.shutdown`` runs the loop again
until the app has finished its shutdown. The lifespan ``state`` dict is what each request's
scope gets a shallow copy of, as with an ASGI server.

A failed startup is logged and ends the worker with status 3, as uvicorn does: serving an app
whose startup failed would answer requests with missing resources.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

from starlette.types import ASGIApp, Message

__all__ = ["Lifespan", "LifespanFailed"]

logger = logging.getLogger("hasten.rsgi")

STARTUP_FAILED_EXIT = 3


class LifespanFailed(Exception):
    """The app reported (or raised) a failed lifespan startup."""


class Lifespan:
    """One worker's run of the app's ASGI lifespan (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = True  # False when the app ignores lifespan events
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._startup: asyncio.Future[str | None] | None = None
        self._shutdown: asyncio.Future[str | None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as exc:
            # Reported by startup()/shutdown(), which a failure message settled first.
            self._settle("".join(traceback.format_exception(exc)))
            if not isinstance(exc, Exception):
                raise
        else:
            if self._startup is not None and not self._startup.done():
                self.supported = False
            self._settle(None)

    def _settle(self, outcome: str | None) -> None:
        for future in (self._startup, self._shutdown):
            if future is not None and not future.done():
                future.set_result(outcome)

    async def _receive(self) -> Message:
        return await self._inbox.get()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        startup, shutdown = self._startup, self._shutdown
        if kind == "lifespan.startup.complete" and startup is not None and not startup.done():
            startup.set_result(None)
        elif kind == "lifespan.startup.failed" and startup is not None and not startup.done():
            startup.set_result(message.get("message") or "startup failed")
        elif kind == "lifespan.shutdown.complete" and shutdown is not None:
            if not shutdown.done():
                shutdown.set_result(None)
        elif kind == "lifespan.shutdown.failed" and shutdown is not None:
            if not shutdown.done():
                shutdown.set_result(message.get("message") or "shutdown failed")

    def startup(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run the app's startup on ``loop`` (not running); raise ``LifespanFailed`` if it fails."""
        self._startup = loop.create_future()
        self._shutdown = loop.create_future()
        self._task = loop.create_task(self._run())
        self._inbox.put_nowait({"type": "lifespan.startup"})
        failure = loop.run_until_complete(self._startup)
        if failure is not None:
            raise LifespanFailed(failure)

    def shutdown(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run the app's shutdown on ``loop`` (not running); a failure is logged."""
        task, shutdown = self._task, self._shutdown
        if task is None or shutdown is None:
            return
        if not task.done():
            self._inbox.put_nowait({"type": "lifespan.shutdown"})
            failure = loop.run_until_complete(shutdown)
            if failure is not None:
                logger.error("Application shutdown failed: %s", failure)
            if not task.done():
                loop.run_until_complete(task)
