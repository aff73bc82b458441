"""The Dramatiq side: the broker, the middleware that keeps task records, the worker loop.

Dramatiq carries the messages, acknowledges them only after the task ran (a killed worker's
message goes back to the queue), retries with exponential backoff and moves a message whose
retries are exhausted to the queue's dead-letter queue (``<queue>.XQ``). The middleware only
writes what happens to the shared record, and turns the redelivery of a message whose worker
was lost into a failed attempt, so that Dramatiq's retries count it (and dead-letter it).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dramatiq
from dramatiq.asyncio import async_to_sync
from dramatiq.errors import Retry
from dramatiq.middleware import AsyncIO, MiddlewareError, SkipMessage, default_middleware
from dramatiq.middleware.retries import Retries

from ._model import TERMINAL, TaskState, describe, encode_result, now
from ._store import SyncRedisRecords

logger = logging.getLogger("hasten.taskqueue")

_PIKA_DEFAULTS = {
    "connection_attempts": "1",
    "socket_timeout": "3",
    "blocked_connection_timeout": "5",
}


def _with_timeouts(url: str) -> str:
    """The AMQP URL with short connection timeouts unless it sets its own (no hung enqueue)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in _PIKA_DEFAULTS.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


class WorkerLost(MiddlewareError, Retry):
    """The redelivered message's previous attempt never finished: its worker was lost."""


_local = threading.local()


def actor_function(fn: Callable[..., Any], is_async: bool) -> Callable[..., None]:
    """What the actor runs: ``fn``, its return value kept for the middleware (not Dramatiq's)."""
    call = async_to_sync(fn) if is_async else fn

    def run(*args: Any, **kwargs: Any) -> None:
        _local.result = call(*args, **kwargs)

    run.__name__ = getattr(fn, "__name__", "task")
    run.__module__ = getattr(fn, "__module__", __name__)
    return run


class StatusMiddleware(dramatiq.Middleware):
    """Writes each message's record (running, heartbeat, succeeded, retrying, failed, dead)."""

    def __init__(self, store_url: str, prefix: str, ttl: int, interval: float, timeout: float):
        self._args = (store_url, prefix, ttl)
        self._records: SyncRedisRecords | None = None
        self.interval, self.timeout = interval, timeout
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat_thread: threading.Thread | None = None

    @property
    def records(self) -> SyncRedisRecords:
        if self._records is None:
            url, prefix, ttl = self._args
            self._records = SyncRedisRecords(url, prefix=prefix, ttl=ttl)
        return self._records

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self._stop.clear()
        self._beat_thread = threading.Thread(
            target=self._beat, name="hasten-heartbeat", daemon=True
        )
        self._beat_thread.start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                running = list(self._running)
            if running:
                try:
                    self.records.beat(running)
                except Exception:  # the store is down: the next beat tries again
                    logger.warning("hasten.taskqueue: heartbeat failed", exc_info=True)

    def before_process_message(self, broker: Any, message: Any) -> None:
        task_id = message.message_id
        attempt = message.options.get("retries", 0) + 1
        with self._lock:
            self._running[task_id] = attempt
        fields = self.records.fields(task_id)
        state = fields.get("state")
        if state in TERMINAL:  # its ack was lost after it finished: do not run it twice
            raise SkipMessage(f"task {task_id} already {state}")
        if state in ("running", "lost") and int(fields.get("attempts") or 0) >= attempt:
            error = f"WorkerLost: the worker running attempt {attempt} stopped before it finished"
            self.records.transition(task_id, "lost", attempt, error=error)
            raise WorkerLost(error)
        at = now()
        self.records.transition(
            task_id,
            "running",
            attempt,
            name=fields.get("name") or message.actor_name,
            started_at=at,
            heartbeat_at=at,
            heartbeat_timeout=self.timeout,
        )

    def after_skip_message(self, broker: Any, message: Any) -> None:
        with self._lock:
            self._running.pop(message.message_id, None)

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        task_id = message.message_id
        with self._lock:
            attempt = self._running.pop(task_id, 1)
        if exception is None:
            value = getattr(_local, "result", None)
            _local.result = None
            self.records.transition(
                task_id,
                "succeeded",
                attempt,
                result=encode_result(value),
                error="",
                finished_at=now(),
            )
            return
        error = str(exception) if isinstance(exception, WorkerLost) else describe(exception)
        if not message.failed:
            self.records.transition(task_id, "retrying", attempt, error=error)
            return
        actor = broker.get_actor(message.actor_name)
        throws = message.options.get("throws") or actor.options.get("throws")
        state: TaskState = "failed" if throws and isinstance(exception, throws) else "dead"
        self.records.transition(task_id, state, attempt, error=error, finished_at=now())


def build_broker(url: str, status: StatusMiddleware, *, min_backoff: int, max_backoff: int) -> Any:
    """A RabbitMQ broker (``amqp://``) with Dramatiq's middleware, the status hooks and asyncio."""
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    if not url.startswith(("amqp://", "amqps://")):
        raise ValueError(f"unsupported broker URL {url!r}: use amqp://user:password@host:5672/")
    middleware: list[dramatiq.Middleware] = [status]
    for factory in default_middleware:
        if factory is Retries:
            middleware.append(Retries(min_backoff=min_backoff, max_backoff=max_backoff))
        else:
            middleware.append(factory())
    middleware.append(AsyncIO())
    return RabbitmqBroker(url=_with_timeouts(url), middleware=middleware, confirm_delivery=True)


def run_worker(broker: Any, *, threads: int, ready: Callable[[], None] | None = None) -> None:
    """Consume ``broker``'s queues with ``threads`` worker threads until SIGTERM or SIGINT."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=250)
    worker.start()
    try:
        if ready is not None:
            ready()
        stop.wait()
    finally:
        worker.stop(timeout=10_000)
        broker.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
