"""hasten.broadcast on both backends: delivery, ordering, fan-out, cleanup, slow consumers."""

from __future__ import annotations

import asyncio
import datetime
from decimal import Decimal

import pytest
import redis
from broadcast_support import eventually, numsub
from pydantic import BaseModel

from hasten.broadcast import (
    Broadcast,
    BroadcastUnavailable,
    Message,
    SlowConsumer,
    Subscription,
)

pytestmark = pytest.mark.anyio


async def _take(sub: Subscription, count: int) -> list[Message]:
    out: list[Message] = []
    async with asyncio.timeout(10):
        async for message in sub:
            out.append(message)
            if len(out) == count:
                break
    return out


class Item(BaseModel):
    name: str
    price: Decimal


async def test_messages_keep_their_bytes_text_and_json(url: str, prefix: str) -> None:
    channel = prefix + "kinds"
    async with Broadcast(url) as broadcast, broadcast.subscribe(channel) as sub:
        await broadcast.publish(channel, "héllo")
        await broadcast.publish(channel, b"\x00\xff")
        await broadcast.publish(channel, {"n": [1, 2], "ok": True, "s": "é"})
        await broadcast.publish(channel, Item(name="cup", price=Decimal("4.50")))
        await broadcast.publish(channel, datetime.date(2026, 12, 5))
        got = await _take(sub, 5)
    assert [m.channel for m in got] == [channel] * 5
    assert got[0].text == "héllo" and got[0].data == "héllo".encode()
    assert got[1].data == b"\x00\xff"
    assert got[2].json() == {"n": [1, 2], "ok": True, "s": "é"}
    assert got[2].data == '{"n":[1,2],"ok":true,"s":"é"}'.encode()
    assert got[3].json() == {"name": "cup", "price": "4.50"}
    assert got[4].json() == "2026-12-05"


async def test_a_value_that_is_not_json_is_refused_before_sending(url: str, prefix: str) -> None:
    async with Broadcast(url) as broadcast, broadcast.subscribe(prefix + "c") as sub:
        with pytest.raises(ValueError):
            await broadcast.publish(prefix + "c", {"x": float("nan")})
        await broadcast.publish(prefix + "c", "after")
        assert [m.text for m in await _take(sub, 1)] == ["after"]


async def test_order_is_kept_per_channel_and_channels_stay_apart(url: str, prefix: str) -> None:
    a, b = prefix + "a", prefix + "b"
    async with Broadcast(url) as broadcast:
        async with broadcast.subscribe(a) as sub_a, broadcast.subscribe(b) as sub_b:
            for i in range(300):
                await broadcast.publish(a if i % 3 else b, str(i))
            got_a = await _take(sub_a, 200)
            got_b = await _take(sub_b, 100)
            assert sub_a.pending == sub_b.pending == 0
    assert [int(m.text) for m in got_a] == [i for i in range(300) if i % 3]
    assert [int(m.text) for m in got_b] == [i for i in range(300) if not i % 3]


async def test_every_subscriber_gets_every_message(url: str, prefix: str) -> None:
    channel = prefix + "many"
    async with Broadcast(url) as broadcast:
        subs = [broadcast.subscribe(channel) for _ in range(25)]
        for sub in subs:
            await sub.__aenter__()
        assert broadcast.subscriber_count(channel) == 25
        assert broadcast.channels == {channel}
        for i in range(40):
            await broadcast.publish(channel, i)
        results = await asyncio.gather(*(_take(sub, 40) for sub in subs))
        for sub in subs:
            await sub.__aexit__(None, None, None)
        assert broadcast.subscriber_count() == 0 and broadcast.channels == frozenset()
    for got in results:
        assert [m.json() for m in got] == list(range(40))


async def test_a_message_published_before_subscribing_is_not_received(
    url: str, prefix: str
) -> None:
    channel = prefix + "late"
    async with Broadcast(url) as broadcast:
        await broadcast.publish(channel, "early")
        async with broadcast.subscribe(channel) as sub:
            await broadcast.publish(channel, "late")
            assert [m.text for m in await _take(sub, 1)] == ["late"]


async def test_two_broadcasts_on_one_redis_reach_each_other(prefix: str) -> None:
    from broadcast_support import REDIS_URL, need_redis

    need_redis()
    channel = prefix + "shared"
    async with Broadcast(REDIS_URL) as one, Broadcast(REDIS_URL) as two:
        async with two.subscribe(channel) as sub:
            await one.publish(channel, "across")
            assert [m.text for m in await _take(sub, 1)] == ["across"]


async def test_two_memory_broadcasts_do_not_share(prefix: str) -> None:
    channel = prefix + "apart"
    async with Broadcast() as one, Broadcast() as two, two.subscribe(channel) as sub:
        await one.publish(channel, "not for two")
        await two.publish(channel, "for two")
        assert [m.text for m in await _take(sub, 1)] == ["for two"]
        assert sub.pending == 0


async def test_cancelling_a_subscriber_leaves_nothing_behind(
    url: str, prefix: str, request: pytest.FixtureRequest
) -> None:
    channel = prefix + "cancel"
    client = redis.Redis.from_url(url) if url.startswith("redis") else None
    received = asyncio.Event()

    async def listen(broadcast: Broadcast) -> None:
        async with broadcast.subscribe(channel) as sub:
            async for _ in sub:
                received.set()

    try:
        outside = asyncio.all_tasks()
        async with Broadcast(url) as broadcast:
            async with broadcast.subscribe(prefix + "warm-up") as warm:  # the backend is running
                await broadcast.publish(prefix + "warm-up", "x")
                await _take(warm, 1)
            tasks_before = asyncio.all_tasks()
            listeners = [asyncio.ensure_future(listen(broadcast)) for _ in range(3)]
            await eventually(lambda: broadcast.subscriber_count(channel) == 3, "3 subscribers")
            if client is not None:
                assert numsub(client, channel) == 1  # one Redis subscription per process
            await broadcast.publish(channel, "x")
            async with asyncio.timeout(10):
                await received.wait()
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
            # Nothing is left: no subscriber, no channel, no task, no Redis subscription.
            assert broadcast.subscriber_count() == 0 and broadcast.channels == frozenset()
            assert asyncio.all_tasks() == tasks_before
            if client is not None:
                await eventually(lambda: numsub(client, channel) == 0, "Redis unsubscribed")
            # The channel works again afterwards.
            async with broadcast.subscribe(channel) as sub:
                await broadcast.publish(channel, "again")
                assert [m.text for m in await _take(sub, 1)] == ["again"]
        assert asyncio.all_tasks() == outside  # the broadcast's own tasks are gone too
    finally:
        if client is not None:
            client.close()


async def test_cancelled_while_subscribing_leaves_nothing(url: str, prefix: str) -> None:
    channel = prefix + "early-cancel"
    async with Broadcast(url) as broadcast:
        for _ in range(20):
            task = asyncio.ensure_future(broadcast.subscribe(channel).__aenter__())
            await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if not task.cancelled():
                await task.result().__aexit__(None, None, None)
            assert broadcast.subscriber_count() == 0
        async with broadcast.subscribe(channel) as sub:
            await broadcast.publish(channel, "still works")
            assert [m.text for m in await _take(sub, 1)] == ["still works"]


async def test_a_slow_consumer_is_disconnected(url: str, prefix: str) -> None:
    channel = prefix + "slow"
    async with Broadcast(url, max_queue=3) as broadcast:
        async with broadcast.subscribe(channel) as slow, broadcast.subscribe(channel) as fast:
            fast_got: list[str] = []
            for i in range(4):
                await broadcast.publish(channel, str(i))
                fast_got += [m.text for m in await _take(fast, 1)]
            with pytest.raises(SlowConsumer):
                async with asyncio.timeout(10):
                    await anext(slow)
            assert slow.pending == 0
            assert broadcast.subscriber_count(channel) == 1  # the fast one stays
            await broadcast.publish(channel, "4")
            fast_got += [m.text for m in await _take(fast, 1)]
            assert fast_got == ["0", "1", "2", "3", "4"]
            with pytest.raises(SlowConsumer):
                await anext(slow)


async def test_drop_oldest_keeps_the_newest(url: str, prefix: str) -> None:
    channel = prefix + "drop"
    async with Broadcast(url) as broadcast:
        async with broadcast.subscribe(channel, max_queue=3, overflow="drop_oldest") as sub:
            for i in range(7):
                await broadcast.publish(channel, str(i))
            await eventually(lambda: sub.pending + sub.dropped == 7, "all 7 delivered")
            got = await _take(sub, 3)
            assert [m.text for m in got] == ["4", "5", "6"]
            assert sub.dropped == 4 and sub.pending == 0


async def test_disconnect_ends_every_subscription(url: str, prefix: str) -> None:
    broadcast = Broadcast(url)
    await broadcast.connect()
    async with broadcast.subscribe(prefix + "end") as sub:
        got: list[str] = []

        async def read_all() -> None:
            async for message in sub:
                got.append(message.text)

        reader = asyncio.ensure_future(read_all())
        await broadcast.publish(prefix + "end", "last")
        await eventually(lambda: got == ["last"], "the message read")
        await broadcast.disconnect()
        async with asyncio.timeout(10):
            await reader  # the iteration stopped: no error
    assert not broadcast.is_connected
    with pytest.raises(BroadcastUnavailable):
        await broadcast.publish(prefix + "end", "x")
    with pytest.raises(BroadcastUnavailable):
        async with broadcast.subscribe(prefix + "end"):
            pass


async def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown broadcast backend"):
        Broadcast("kafka://x")
    with pytest.raises(ValueError, match="overflow"):
        Broadcast(overflow="block")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_queue"):
        Broadcast(max_queue=0)
    assert repr(Broadcast("redis://:secret@127.0.0.1:6379/0")) == (
        "Broadcast('redis://:***@127.0.0.1:6379/0')"
    )
    broadcast = Broadcast()
    async with broadcast:
        with pytest.raises(RuntimeError, match="already connected"):
            await broadcast.connect()
        sub = broadcast.subscribe("x")
        async with sub:
            with pytest.raises(RuntimeError, match="only once"):
                await sub.__aenter__()
