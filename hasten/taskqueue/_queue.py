"""`TaskQueue` and `QueueTask`: declare tasks once, run them in-process or on Dramatiq."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar, overload

import anyio
import anyio.to_thread
from typing_extensions import ParamSpec

from ..exceptions import HTTPException
from ._model import TaskInfo, describe, encode_result, now
from ._store import DEFAULT_TTL, MemoryTaskStore, RedisTaskStore, TaskStore

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger("hasten.taskqueue")


class TaskQueueUnavailable(HTTPException):
    """The broker or the status store cannot be reached: a 503 in FastAPI's error shape."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=503, detail=detail)


class QueueTask(Generic[P, R]):
    """A function declared with `TaskQueue.task`: run it, or send it with `enqueue`."""

    def __init__(
        self,
        queue: TaskQueue,
        fn: Callable[P, Awaitable[R]] | Callable[P, R],
        *,
        name: str,
        retries: int,
        min_backoff: float,
        max_backoff: float,
        throws: tuple[type[BaseException], ...],
    ) -> None:
        self.queue, self.fn, self.name = queue, fn, name
        self.max_retries, self.min_backoff, self.max_backoff = retries, min_backoff, max_backoff
        self.throws = throws
        self.is_async = inspect.iscoroutinefunction(fn)
        self.actor: Any = None  # the Dramatiq actor, once the broker exists
        self.__name__ = getattr(fn, "__name__", name)
        self.__doc__ = getattr(fn, "__doc__", None)

    async def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> TaskInfo:
        """Send the task now and return its status (``queued``); its ``id`` is for ``GET /tasks``.

        With a broker, the message is published before this returns (`TaskQueueUnavailable`,
        a 503, when the broker or the store cannot be reached in ``enqueue_timeout`` seconds).
        Without one, the task starts in this process, in the background.
        """
        return await self.queue._enqueue(self, args, kwargs, wait=False)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> TaskInfo:
        """What ``background_tasks.add_task(task, ...)`` runs after the response: sent to the
        broker when the queue has one, run here to its end (retries included) otherwise."""
        return await self.queue._enqueue(self, args, kwargs, wait=True)

    async def run_local(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function itself, here (no record, no retry)."""
        if self.is_async:
            return await self.fn(*args, **kwargs)  # type: ignore[no-any-return,misc]
        return await anyio.to_thread.run_sync(lambda: self.fn(*args, **kwargs))  # type: ignore[arg-type,return-value]

    def backoff(self, retries: int) -> float:
        """Seconds before the retry that follows ``retries`` earlier retries."""
        return float(min(self.max_backoff, self.min_backoff * (2**retries)))


class TaskQueue:
    """Tasks sent to Dramatiq on RabbitMQ when ``broker_url`` is set, run in-process otherwise.

    ``store_url`` (Redis) keeps each task's status where every server and worker process sees
    it; it is required with a broker. Without either, statuses live in this process's memory.
    """

    def __init__(
        self,
        broker_url: str | None = None,
        *,
        store_url: str | None = None,
        queue_name: str = "hasten",
        key_prefix: str = "hasten:task:",
        record_ttl: int = DEFAULT_TTL,
        heartbeat_interval: float = 2.0,
        heartbeat_timeout: float = 10.0,
        enqueue_timeout: float = 5.0,
    ) -> None:
        if broker_url and not store_url:
            raise ValueError("a broker needs a shared status store: pass store_url='redis://...'")
        self.broker_url, self.store_url, self.queue_name = broker_url, store_url, queue_name
        self.key_prefix, self.record_ttl = key_prefix, record_ttl
        self.heartbeat_interval, self.heartbeat_timeout = heartbeat_interval, heartbeat_timeout
        self.enqueue_timeout = enqueue_timeout
        self.store: TaskStore = (
            RedisTaskStore(store_url, prefix=key_prefix, ttl=record_ttl)
            if store_url
            else MemoryTaskStore()
        )
        self.tasks: dict[str, QueueTask[..., Any]] = {}
        self._broker: Any = None
        self._publisher: ThreadPoolExecutor | None = None
        self._running: set[asyncio.Task[Any]] = set()

    @property
    def distributed(self) -> bool:
        """Whether tasks go to a broker (else they run in the process that sends them)."""
        return bool(self.broker_url)

    @overload
    def task(self, fn: Callable[P, R], /) -> QueueTask[P, R]: ...

    @overload
    def task(
        self,
        *,
        name: str | None = None,
        retries: int = 3,
        min_backoff: float = 1.0,
        max_backoff: float = 300.0,
        throws: tuple[type[BaseException], ...] = (),
    ) -> Callable[[Callable[P, R]], QueueTask[P, R]]: ...

    def task(  # type: ignore[misc]
        self,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        retries: int = 3,
        min_backoff: float = 1.0,
        max_backoff: float = 300.0,
        throws: tuple[type[BaseException], ...] = (),
    ) -> Any:
        """Declare a task (decorator): ``retries`` after the first attempt, exponential backoff
        from ``min_backoff`` to ``max_backoff`` seconds; exceptions in ``throws`` are not retried.
        Arguments and results must be JSON-serialisable when a broker carries them."""

        def declare(fn: Callable[..., Any]) -> QueueTask[..., Any]:
            task_name = name or f"{fn.__module__}.{fn.__qualname__}"
            if task_name in self.tasks:
                raise ValueError(f"a task named {task_name!r} is already declared")
            task: QueueTask[..., Any] = QueueTask(
                self,
                fn,
                name=task_name,
                retries=retries,
                min_backoff=min_backoff,
                max_backoff=max_backoff,
                throws=throws,
            )
            self.tasks[task_name] = task
            if self._broker is not None:
                self._declare_actor(task)
            return task

        return declare if fn is None else declare(fn)

    # -- the broker ---------------------------------------------------------------------------

    @property
    def broker(self) -> Any:
        """The Dramatiq broker (built on first use, every declared task an actor on it)."""
        if self._broker is None:
            if not self.broker_url or not self.store_url:
                raise RuntimeError("this TaskQueue has no broker_url: tasks run in-process")
            from ._dramatiq import StatusMiddleware, build_broker

            status = StatusMiddleware(
                self.store_url,
                self.key_prefix,
                self.record_ttl,
                self.heartbeat_interval,
                self.heartbeat_timeout,
            )
            self._broker = build_broker(
                self.broker_url, status, min_backoff=1000, max_backoff=300_000
            )
            for task in self.tasks.values():
                self._declare_actor(task)
        return self._broker

    def _declare_actor(self, task: QueueTask[..., Any]) -> None:
        import dramatiq

        from ._dramatiq import actor_function

        task.actor = dramatiq.Actor(
            actor_function(task.fn, task.is_async),
            broker=self._broker,
            actor_name=task.name,
            queue_name=self.queue_name,
            priority=0,
            options={
                "max_retries": task.max_retries,
                "min_backoff": int(task.min_backoff * 1000),
                "max_backoff": int(task.max_backoff * 1000),
                "throws": task.throws or None,
            },
        )

    # -- sending ------------------------------------------------------------------------------

    async def _enqueue(
        self, task: QueueTask[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], wait: bool
    ) -> TaskInfo:
        if not self.distributed:
            return await self._start_local(task, args, kwargs, wait)
        message = self.broker.get_actor(task.name).message_with_options(args=args, kwargs=kwargs)
        task_id: str = message.message_id
        try:
            with anyio.fail_after(self.enqueue_timeout):
                await self._record_queued(task, task_id)
                await asyncio.get_running_loop().run_in_executor(
                    self._publisher_pool(), self.broker.enqueue, message
                )
        except (TypeError, ValueError):
            raise  # arguments that JSON cannot carry: the caller's error
        except Exception as exc:
            await self._forget(task_id)
            raise TaskQueueUnavailable(
                f"The task queue is unavailable: {describe(exc)}".rstrip(": ")
            ) from exc
        info = await self.store.get(task_id)
        assert info is not None
        return info

    async def _record_queued(self, task: QueueTask[..., Any], task_id: str) -> None:
        await self.store.transition(
            task_id, "queued", 0, name=task.name, max_retries=task.max_retries, enqueued_at=now()
        )

    async def _forget(self, task_id: str) -> None:
        with anyio.move_on_after(1):
            try:
                await self.store.delete(task_id)
            except Exception:
                pass  # the store is what failed: its record, if any, expires

    def _publisher_pool(self) -> ThreadPoolExecutor:
        # One thread: Dramatiq keeps a connection per thread, so this process keeps one.
        if self._publisher is None:
            self._publisher = ThreadPoolExecutor(1, thread_name_prefix="hasten-taskqueue")
        return self._publisher

    # -- in-process ---------------------------------------------------------------------------

    async def _start_local(
        self, task: QueueTask[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], wait: bool
    ) -> TaskInfo:
        import uuid

        task_id = str(uuid.uuid4())
        try:
            await self._record_queued(task, task_id)
        except Exception as exc:
            raise TaskQueueUnavailable(f"The task store is unavailable: {describe(exc)}") from exc
        info = await self.store.get(task_id)
        assert info is not None
        if wait:
            await self._run_local(task, task_id, args, kwargs)
            return await self.store.get(task_id) or info
        running = asyncio.get_running_loop().create_task(
            self._run_local(task, task_id, args, kwargs)
        )
        self._running.add(running)
        running.add_done_callback(self._running.discard)
        return info

    async def _run_local(
        self, task: QueueTask[..., Any], task_id: str, args: tuple[Any, ...], kwargs: Any
    ) -> None:
        store = self.store
        for retries in range(task.max_retries + 1):
            attempt = retries + 1
            await store.transition(task_id, "running", attempt, started_at=now())
            try:
                value = await task.run_local(*args, **kwargs)
            except Exception as exc:
                logger.warning("hasten.taskqueue: %s attempt %d failed", task.name, attempt)
                if task.throws and isinstance(exc, task.throws):
                    await store.transition(
                        task_id, "failed", attempt, error=describe(exc), finished_at=now()
                    )
                    return
                if retries == task.max_retries:
                    await store.transition(
                        task_id, "dead", attempt, error=describe(exc), finished_at=now()
                    )
                    return
                await store.transition(task_id, "retrying", attempt, error=describe(exc))
                await anyio.sleep(task.backoff(retries))
            else:
                result = encode_result(value)
                await store.transition(
                    task_id, "succeeded", attempt, result=result, error="", finished_at=now()
                )
                return

    # -- reading ------------------------------------------------------------------------------

    async def status(self, task_id: str) -> TaskInfo | None:
        """The task's status, or None when the store does not know it."""
        try:
            return await self.store.get(task_id)
        except Exception as exc:
            raise TaskQueueUnavailable(f"The task store is unavailable: {describe(exc)}") from exc

    async def aclose(self) -> None:
        """Cancel in-process tasks still running and wait until they have stopped (what they
        hold, a database connection say, is released before the app closes it), then close the
        store and the broker's connections."""
        running = list(self._running)
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        await self.store.aclose()
        if self._publisher is not None:
            broker = self._broker
            await asyncio.get_running_loop().run_in_executor(self._publisher, broker.close)
            self._publisher.shutdown(wait=False)
            self._publisher = None

    def router(self, *, prefix: str = "/tasks", **kwargs: Any) -> Any:
        """An `APIRouter` with ``GET {prefix}/{task_id}``: the `TaskInfo`, 404 when unknown,
        503 when the store is unreachable (``kwargs`` go to the router: tags, dependencies…)."""
        from ..routing import APIRouter

        router = APIRouter(prefix=prefix, **kwargs)

        @router.get(
            "/{task_id}",
            response_model=TaskInfo,
            responses={404: {"description": "Unknown task"}, 503: {"description": "No store"}},
            summary="A task's status",
        )
        async def get_task(task_id: str) -> TaskInfo:
            info = await self.status(task_id)
            if info is None:
                raise HTTPException(404, detail="Task not found")
            return info

        return router
