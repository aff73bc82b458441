"""The Redis backend: one pub/sub connection per process, a reader and a writer task.

The reader hands every message to the local subscribers of its channel and matches the
server's confirmations; the writer brings the server's subscriptions in line with the
channels that have local subscribers (SUBSCRIBE on 0 → 1, UNSUBSCRIBE on 1 → 0) and sends
the health-check PINGs. Publishing goes through a separate pooled client.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .._redis_client import redis_from_url
from ._errors import BroadcastUnavailable, ConnectionLost
from ._hub import Hub

logger = logging.getLogger("hasten.broadcast")

_FAILURES = (RedisError, OSError, asyncio.TimeoutError)


class RedisBackend:
    """``redis://``: Redis pub/sub shared by every process on that server."""

    def __init__(
        self,
        broadcast: Hub,
        url: str,
        *,
        timeout: float,
        health_check_interval: float,
        reconnect_delay: float,
        reconnect_max_delay: float,
        reconnect_attempts: int | None,
    ) -> None:
        self._broadcast = broadcast
        self._url = url
        self._timeout = timeout
        self._health = health_check_interval
        self._delay = reconnect_delay
        self._max_delay = reconnect_max_delay
        self._attempts = reconnect_attempts
        self._client: Redis | None = None
        self._conn: AbstractConnection | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._loops: tuple[asyncio.Task[None], ...] = ()
        self._wake = asyncio.Event()
        self._reset()

    def _reset(self) -> None:
        self._desired: set[str] = set()  # channels with local subscribers
        self._sent: set[str] = set()  # channels subscribed on this connection
        self._acks: dict[str, int] = {}  # SUBSCRIBEs sent and not confirmed, per channel
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._ping_requested = False
        self._ping_outstanding = False

    @property
    def available(self) -> bool:
        return self._conn is not None

    # --- lifetime ---------------------------------------------------------------------

    async def connect(self) -> None:
        self._client = redis_from_url(self._url, timeout=self._timeout, retries=1)
        try:
            conn = await self._open()
        except BroadcastUnavailable:
            await self._client.aclose()
            self._client = None
            raise
        self._wake = asyncio.Event()
        self._closing = False
        self._conn = conn
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(conn), name="hasten.broadcast redis"
        )

    async def disconnect(self) -> None:
        supervisor, self._supervisor = self._supervisor, None
        self._closing = True
        if supervisor is not None:
            await _stop(supervisor)
        await _stop(*self._loops)  # left running if the supervisor was cancelled twice
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.disconnect(nowait=True)
        self._fail_waiters(ConnectionLost("the broadcast disconnected"))
        self._reset()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _open(self) -> AbstractConnection:
        """A new pub/sub connection that answered a PING, or `BroadcastUnavailable`."""
        assert self._client is not None
        pool = self._client.connection_pool
        kwargs: dict[str, Any] = {
            **pool.connection_kwargs,
            "retry": Retry(NoBackoff(), 0),
            "protocol": 2,  # pub/sub messages as plain replies, not RESP3 pushes
        }
        for resp3_only in ("maint_notifications_config", "maint_notifications_pool_handler"):
            if resp3_only in kwargs:  # redis-py >= 7
                kwargs[resp3_only] = None
        conn: AbstractConnection = pool.connection_class(**kwargs)
        try:
            async with asyncio.timeout(self._timeout):
                await conn.connect()
                await conn.send_command("PING")
                await conn.read_response()
        except _FAILURES as exc:
            await conn.disconnect(nowait=True)
            raise BroadcastUnavailable(
                f"cannot reach Redis for {self._broadcast!r}: {_describe(exc)}"
            ) from exc
        return conn

    async def _supervise(self, conn: AbstractConnection) -> None:
        while not self._closing:
            try:
                await self._session(conn)
            except _FAILURES as exc:
                logger.warning("%r lost its connection (%s); reconnecting", self._broadcast, exc)
                self._fail_waiters(ConnectionLost(f"lost the connection: {_describe(exc)}"))
                self._broadcast._connection_lost(exc)
                self._reset()
            reconnected = await self._reconnect()
            if reconnected is None:
                return
            conn = reconnected
            logger.warning("%r reconnected", self._broadcast)

    async def _reconnect(self) -> AbstractConnection | None:
        delay = self._delay
        failures = 0
        while not self._closing:
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            try:
                return await self._open()
            except BroadcastUnavailable as exc:
                failures += 1
                if self._attempts is not None and failures >= self._attempts:
                    logger.error("%r gave up reconnecting: %s", self._broadcast, exc)
                    return None
                delay = min(delay * 2, self._max_delay)
        return None

    async def _session(self, conn: AbstractConnection) -> None:
        self._conn = conn
        self._wake.set()
        reader = asyncio.ensure_future(self._read(conn))
        writer = asyncio.ensure_future(self._write(conn))
        self._loops = (reader, writer)
        try:
            done, _ = await asyncio.wait((reader, writer), return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            raise ConnectionError("the pub/sub connection stopped")  # pragma: no cover
        finally:
            await _stop(reader, writer)
            self._conn = None
            self._loops = ()
            await conn.disconnect(nowait=True)

    # --- the two loops ----------------------------------------------------------------

    async def _read(self, conn: AbstractConnection) -> None:
        while True:
            response = await conn.read_response(
                timeout=self._health, disconnect_on_error=False, push_request=True
            )
            if response is None:  # quiet for a whole interval
                if self._ping_outstanding:
                    raise ConnectionError(f"Redis did not answer a PING within {self._health} s")
                self._ping_outstanding = self._ping_requested = True
                self._wake.set()
                continue
            self._ping_outstanding = False
            if isinstance(response, list) and response:
                self._handle(response)

    def _handle(self, response: list[Any]) -> None:
        kind = response[0]
        if kind == b"message":
            self._broadcast._deliver(response[1].decode(), response[2])
        elif kind == b"subscribe":
            channel = response[1].decode()
            left = self._acks.get(channel, 0) - 1
            if left > 0:
                self._acks[channel] = left
                return
            self._acks.pop(channel, None)
            if channel in self._sent:
                for waiter in self._waiters.pop(channel, ()):
                    if not waiter.done():
                        waiter.set_result(None)

    async def _write(self, conn: AbstractConnection) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            subscribe = [c for c in self._desired if c not in self._sent]
            unsubscribe = [c for c in self._sent if c not in self._desired]
            if subscribe:
                self._sent.update(subscribe)
                for channel in subscribe:
                    self._acks[channel] = self._acks.get(channel, 0) + 1
                await conn.send_command("SUBSCRIBE", *subscribe)
            if unsubscribe:
                self._sent.difference_update(unsubscribe)
                await conn.send_command("UNSUBSCRIBE", *unsubscribe)
            if self._ping_requested:
                self._ping_requested = False
                await conn.send_command("PING")

    # --- publish / subscribe ----------------------------------------------------------

    async def publish(self, channel: str, data: bytes) -> None:
        assert self._client is not None
        try:
            await self._client.publish(channel, data)
        except _FAILURES as exc:
            raise BroadcastUnavailable(
                f"{self._broadcast!r} could not publish: {_describe(exc)}"
            ) from exc

    async def watch(self, channel: str) -> None:
        if self._conn is None:
            raise BroadcastUnavailable(f"{self._broadcast!r} is reconnecting")
        self._desired.add(channel)
        if channel in self._sent and channel not in self._acks:
            return  # already confirmed
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        self._wake.set()
        try:
            await waiter
        finally:
            waiters = self._waiters.get(channel)
            if waiters and waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[channel]

    def unwatch(self, channel: str) -> None:
        self._desired.discard(channel)
        self._wake.set()

    def _fail_waiters(self, error: BaseException) -> None:
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(error)
        self._waiters.clear()


async def _stop(*tasks: asyncio.Task[Any] | asyncio.Future[Any]) -> None:
    """Cancel ``tasks`` and wait for them, cancelling again any that swallowed it.

    (Python 3.11's ``asyncio.wait_for``, which redis-py uses around socket writes, can lose
    a cancellation that arrives as the write completes.)
    """
    pending = [task for task in tasks if not task.done()]
    while pending:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.1)
        pending = [task for task in pending if not task.done()]
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: the reason is handled by the caller


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError) and not str(exc):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"
