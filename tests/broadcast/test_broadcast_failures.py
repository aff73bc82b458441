"""Redis going away: a clear error at connect, subscribers told, bounded reconnect, no hang.

A TCP proxy in front of the real Redis plays the failures (the shared server is never
stopped): stopping it closes every connection, freezing it forwards nothing.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import pytest
from broadcast_support import Proxy, eventually

from hasten.broadcast import Broadcast, BroadcastUnavailable, ConnectionLost

pytestmark = pytest.mark.anyio


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


async def test_connect_to_a_closed_port_fails_at_once() -> None:
    broadcast = Broadcast(f"redis://127.0.0.1:{_closed_port()}/0")
    async with asyncio.timeout(10):
        with pytest.raises(BroadcastUnavailable, match="cannot reach Redis") as caught:
            await broadcast.connect()
    assert "Connect call failed" in str(caught.value) or "refused" in str(caught.value)
    assert not broadcast.is_connected
    with pytest.raises(BroadcastUnavailable, match="not connected"):
        await broadcast.publish("x", "y")


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in held:
            writer.close()


async def test_connect_to_a_server_that_never_answers_times_out(silent_server: int) -> None:
    broadcast = Broadcast(f"redis://127.0.0.1:{silent_server}/0", timeout=0.5)
    async with asyncio.timeout(10):  # the test's own bound: a hang fails here
        with pytest.raises(BroadcastUnavailable, match="timed out|Timeout"):
            await broadcast.connect()


async def test_lost_connection_ends_subscriptions_then_reconnects(
    proxy: Proxy, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = prefix + "lost"
    caplog.set_level(logging.WARNING, "hasten.broadcast")
    async with Broadcast(proxy.url, reconnect_delay=0.05, reconnect_max_delay=0.2) as broadcast:
        async with broadcast.subscribe(channel) as sub:
            await broadcast.publish(channel, "before")
            async with asyncio.timeout(10):
                assert (await anext(sub)).text == "before"
                await proxy.stop()  # Redis "goes away"
                with pytest.raises(ConnectionLost):
                    await anext(sub)  # told, not left waiting
        assert broadcast.subscriber_count() == 0
        assert not broadcast.is_connected
        with pytest.raises(BroadcastUnavailable, match="reconnecting"):
            async with broadcast.subscribe(channel):
                pass
        with pytest.raises(BroadcastUnavailable):
            await broadcast.publish(channel, "while down")

        await proxy.start()  # same port: Redis is back
        await eventually(lambda: broadcast.is_connected, "reconnected")
        async with broadcast.subscribe(channel) as sub:
            await broadcast.publish(channel, "after")
            async with asyncio.timeout(10):
                assert (await anext(sub)).text == "after"
    messages = [r.getMessage() for r in caplog.records]
    assert any("lost its connection" in m for m in messages), messages
    assert any("reconnected" in m for m in messages), messages


async def test_a_silent_connection_is_found_by_the_health_check(proxy: Proxy, prefix: str) -> None:
    channel = prefix + "frozen"
    async with Broadcast(proxy.url, health_check_interval=0.2, timeout=0.5) as broadcast:
        async with broadcast.subscribe(channel) as sub:
            proxy.frozen = True  # the network stops carrying anything, nothing is closed
            async with asyncio.timeout(10):
                with pytest.raises(ConnectionLost, match="PING"):
                    await anext(sub)
        proxy.frozen = False


async def test_reconnecting_gives_up_after_the_configured_attempts(
    proxy: Proxy, prefix: str
) -> None:
    broadcast = Broadcast(proxy.url, reconnect_delay=0.01, reconnect_attempts=2)
    async with broadcast:
        backend_task = broadcast._backend._supervisor  # type: ignore[attr-defined]
        await proxy.stop()
        async with asyncio.timeout(10):
            await backend_task  # gave up: the reconnect loop ended
        assert not broadcast.is_connected
        with pytest.raises(BroadcastUnavailable):
            async with broadcast.subscribe(prefix + "x"):
                pass


async def test_subscribing_while_the_connection_breaks_is_told(proxy: Proxy, prefix: str) -> None:
    async with Broadcast(proxy.url, reconnect_delay=5.0) as broadcast:
        proxy.frozen = True  # SUBSCRIBE is never confirmed…
        entering = asyncio.ensure_future(broadcast.subscribe(prefix + "x").__aenter__())
        await asyncio.sleep(0.05)
        assert not entering.done()
        await proxy.stop()  # …and the connection closes
        async with asyncio.timeout(10):
            with pytest.raises(ConnectionLost):
                await entering
        assert broadcast.subscriber_count() == 0
