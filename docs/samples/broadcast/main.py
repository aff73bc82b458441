"""Broadcast: a WebSocket chat and an SSE feed on one publish/subscribe (docs/broadcast.md)."""

import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio

# --8<-- [start:app]
from hasten import Depends, FastAPI, WebSocket, WebSocketDisconnect, status
from hasten.broadcast import Broadcast, BroadcastError
from hasten.sse import EventSourceResponse, ServerSentEvent

# memory:// serves one process; a redis:// URL every worker and host on that Redis.
broadcast = Broadcast(os.environ.get("BROADCAST_URL", "memory://"))
app = FastAPI(lifespan=broadcast.lifespan)  # connected at startup, closed at shutdown
Channels = Annotated[Broadcast, Depends(broadcast)]


@app.post("/news")
async def post_news(headline: str, channels: Channels) -> dict[str, str]:
    await channels.publish("news", {"headline": headline})  # JSON; str and bytes go as they are
    return {"published": headline}


@app.get("/news", response_class=EventSourceResponse)
async def news_feed(channels: Channels) -> AsyncIterator[ServerSentEvent]:
    async with channels.subscribe("news") as subscription:  # live once entered
        async for message in subscription:
            yield ServerSentEvent(data=message.json(), event="news")
    # The client leaving closes this generator: the subscription ends with it, at once.


@app.websocket("/rooms/{room}")
async def chat(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    async with broadcast.subscribe(f"room:{room}") as subscription:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(relay, subscription, websocket, tasks.cancel_scope)
            try:
                while True:  # what this member says goes to every member of the room
                    await broadcast.publish(f"room:{room}", await websocket.receive_text())
            except WebSocketDisconnect:
                tasks.cancel_scope.cancel()  # stops the relay; leaving unsubscribes


async def relay(subscription: Any, websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """The room's messages to this member, until the room or the socket goes."""
    try:
        async for message in subscription:
            await websocket.send_text(message.text)
    except BroadcastError:  # Redis lost (ConnectionLost) or too slow a reader (SlowConsumer)
        await websocket.close(code=status.WS_1012_SERVICE_RESTART)  # "come back"
    scope.cancel()


# --8<-- [end:app]


def check(client: Any) -> None:
    import time

    from _sse_reader import read_events

    with (
        client.websocket_connect("/rooms/tea") as ann,
        client.websocket_connect("/rooms/tea") as bob,
    ):
        ann.send_text("hello")
        assert ann.receive_text() == "hello"  # every member, the sender too
        assert bob.receive_text() == "hello"
        with client.websocket_connect("/rooms/coffee") as other:
            bob.send_text("anyone?")
            assert ann.receive_text() == "anyone?"
            other.send_text("only here")
            assert other.receive_text() == "only here"  # rooms are separate channels
    assert broadcast.subscriber_count() == 0  # every member left: nothing subscribed

    # The feed, read in the app's event loop while this thread publishes.
    reader = client.portal.start_task_soon(read_events, app, "/news", 2)
    deadline = time.monotonic() + 10
    while broadcast.subscriber_count("news") == 0:  # wait until the feed has subscribed
        assert time.monotonic() < deadline, "the feed never subscribed"
        time.sleep(0.01)
    assert client.post("/news", params={"headline": "Tea is served"}).status_code == 200
    assert client.post("/news", params={"headline": "Kettle fixed"}).status_code == 200
    assert reader.result(timeout=10) == [  # SSE data: JSON as FastAPI writes it
        '{"headline": "Tea is served"}',
        '{"headline": "Kettle fixed"}',
    ]
    assert broadcast.subscriber_count() == 0  # the feed's client left: unsubscribed
