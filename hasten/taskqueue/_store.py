"""Where task records live: this process's memory, or Redis (shared by every process and host).

A record is a hash of string fields (see ``_model``) plus a list of events; every write is one
pipeline (the fields, the event, the expiry), so readers never see half a transition.
"""

from __future__ import annotations

from typing import Any, Protocol

from ._model import TaskInfo, TaskState, event_for, fields_for, now, to_info

DEFAULT_TTL = 7 * 24 * 3600
"""Seconds a record is kept after its last change (a week, as the dead-letter queue)."""


class TaskStore(Protocol):
    """The status store as the server side (and the in-process runner) uses it."""

    async def transition(
        self, task_id: str, state: TaskState, attempt: int, **fields: Any
    ) -> None: ...

    async def get(self, task_id: str) -> TaskInfo | None: ...

    async def delete(self, task_id: str) -> None: ...

    async def aclose(self) -> None: ...


def _write(pipe: Any, key: str, state: TaskState, attempt: int, ttl: int, fields: Any) -> None:
    at = now()
    error = fields.get("error")
    pipe.hset(key, mapping=fields_for(state, attempt, at=at, **fields))
    pipe.rpush(key + ":history", event_for(state, attempt, at, error or None))
    pipe.expire(key, ttl)
    pipe.expire(key + ":history", ttl)


class MemoryTaskStore:
    """Records in this process only: the default when no store is configured."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, str]] = {}
        self._history: dict[str, list[str]] = {}

    async def transition(self, task_id: str, state: TaskState, attempt: int, **fields: Any) -> None:
        """Record that ``task_id`` entered ``state`` (``fields``: name, result, error, times…)."""
        at = now()
        self._records.setdefault(task_id, {}).update(fields_for(state, attempt, at=at, **fields))
        error = fields.get("error") or None
        self._history.setdefault(task_id, []).append(event_for(state, attempt, at, error))

    async def get(self, task_id: str) -> TaskInfo | None:
        """The task's status, or None when unknown."""
        record = self._records.get(task_id)
        if record is None:
            return None
        return to_info(task_id, record, self._history.get(task_id, []), now())

    async def delete(self, task_id: str) -> None:
        """Forget the task."""
        self._records.pop(task_id, None)
        self._history.pop(task_id, None)

    async def aclose(self) -> None:
        """Nothing to close."""


class RedisTaskStore:
    """Records in Redis under ``prefix`` (redis-py's asyncio client): every process sees them."""

    def __init__(self, url: str, *, prefix: str = "hasten:task:", ttl: int = DEFAULT_TTL) -> None:
        from redis.asyncio import Redis

        self.url, self.prefix, self.ttl = url, prefix, ttl
        self._redis = Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5
        )

    async def transition(self, task_id: str, state: TaskState, attempt: int, **fields: Any) -> None:
        """Record that ``task_id`` entered ``state`` (one pipeline)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            _write(pipe, self.prefix + task_id, state, attempt, self.ttl, fields)
            await pipe.execute()

    async def get(self, task_id: str) -> TaskInfo | None:
        """The task's status, or None when unknown (or expired)."""
        key = self.prefix + task_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(key)
            pipe.lrange(key + ":history", 0, -1)
            record, history = await pipe.execute()
        return to_info(task_id, record, history, now()) if record else None

    async def delete(self, task_id: str) -> None:
        """Forget the task."""
        await self._redis.delete(self.prefix + task_id, self.prefix + task_id + ":history")

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


class SyncRedisRecords:
    """The worker's side of `RedisTaskStore` (dramatiq's hooks run in threads: a sync client)."""

    def __init__(self, url: str, *, prefix: str, ttl: int) -> None:
        from redis import Redis

        self.prefix, self.ttl = prefix, ttl
        self._redis = Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5
        )

    def fields(self, task_id: str) -> dict[str, str]:
        """The stored fields ({} when unknown)."""
        record: dict[str, str] = self._redis.hgetall(self.prefix + task_id)  # type: ignore[assignment]
        return record

    def transition(self, task_id: str, state: TaskState, attempt: int, **fields: Any) -> None:
        """Record a transition (one pipeline)."""
        with self._redis.pipeline(transaction=True) as pipe:
            _write(pipe, self.prefix + task_id, state, attempt, self.ttl, fields)
            pipe.execute()

    def beat(self, task_ids: list[str]) -> None:
        """Refresh the heartbeat of the running tasks ``task_ids``."""
        at = repr(now())
        with self._redis.pipeline(transaction=False) as pipe:
            for task_id in task_ids:
                pipe.hset(self.prefix + task_id, "heartbeat_at", at)
            pipe.execute()

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()
