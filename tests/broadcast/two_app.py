"""The app the two-process tests serve: publish over HTTP, subscribe over WebSocket or SSE.

``BROADCAST_URL`` selects the backend (``memory://`` by default).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Annotated

import anyio

from hasten import Body, Depends, Hasten, WebSocket, WebSocketDisconnect
from hasten.broadcast import Broadcast, BroadcastError
from hasten.sse import EventSourceResponse, ServerSentEvent

broadcast = Broadcast(os.environ.get("BROADCAST_URL", "memory://"))
app = Hasten(lifespan=broadcast.lifespan)
Channels = Annotated[Broadcast, Depends(broadcast)]


@app.get("/health")
async def health(channels: Channels) -> dict[str, bool]:
    return {"connected": channels.is_connected}


@app.post("/publish/{channel}", status_code=204)
async def publish(
    channel: str, text: Annotated[str, Body(media_type="text/plain")], channels: Channels
) -> None:
    await channels.publish(channel, text)


@app.get("/subscribers/{channel}")
async def subscribers(channel: str, channels: Channels) -> int:
    return channels.subscriber_count(channel)


@app.get("/sse/{channel}", response_class=EventSourceResponse)
async def sse(channel: str, channels: Channels) -> AsyncIterator[ServerSentEvent]:
    async with channels.subscribe(channel) as sub:
        yield ServerSentEvent(event="subscribed", data=channel)
        async for message in sub:
            yield ServerSentEvent(raw_data=message.text)


@app.websocket("/ws/{channel}")
async def ws(websocket: WebSocket, channel: str) -> None:
    await websocket.accept()
    async with broadcast.subscribe(channel) as sub, anyio.create_task_group() as group:

        async def forward() -> None:
            try:
                async for message in sub:
                    await websocket.send_text(message.text)
            except BroadcastError:
                await websocket.close(code=1012)
            group.cancel_scope.cancel()

        group.start_soon(forward)
        await websocket.send_text("subscribed")
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            group.cancel_scope.cancel()
