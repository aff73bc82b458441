"""Live updates: an in-process event bus for the SSE stream and a WebSocket chat per order.

Both live in one process. With several workers, put a shared broker (Redis pub/sub) behind
``EventBus.publish`` and ``ChatRooms.broadcast``; the endpoints would stay the same.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from hasten import WebSocket


@dataclass(frozen=True)
class OrderEvent:
    id: int
    type: str
    order_id: int
    user_id: int
    data: dict[str, Any]


class EventBus:
    """Numbered order events, a short history (for ``Last-Event-ID``) and live subscribers."""

    def __init__(self, history: int = 1000) -> None:
        self._next_id = 1
        self._history: deque[OrderEvent] = deque(maxlen=history)
        self._subscribers: set[asyncio.Queue[OrderEvent]] = set()

    def publish(self, type: str, order_id: int, user_id: int, data: dict[str, Any]) -> OrderEvent:
        event = OrderEvent(self._next_id, type, order_id, user_id, data)
        self._next_id += 1
        self._history.append(event)
        for queue in self._subscribers:
            queue.put_nowait(event)
        return event

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @asynccontextmanager
    async def subscribe(self, after: int | None = None) -> AsyncIterator[AsyncIterator[OrderEvent]]:
        """Events published from now on, preceded by the history after event ``after``."""
        queue: asyncio.Queue[OrderEvent] = asyncio.Queue()
        backlog = [e for e in self._history if after is not None and e.id > after]
        self._subscribers.add(queue)

        async def stream() -> AsyncIterator[OrderEvent]:
            for event in backlog:
                yield event
            last = backlog[-1].id if backlog else 0
            while True:
                event = await queue.get()
                if event.id > last:
                    yield event

        try:
            yield stream()
        finally:
            self._subscribers.discard(queue)


class ChatRooms:
    """A connection manager: one room of WebSockets per order."""

    def __init__(self) -> None:
        self.rooms: dict[int, dict[WebSocket, str]] = {}

    async def join(self, order_id: int, websocket: WebSocket, username: str) -> None:
        await websocket.accept()
        self.rooms.setdefault(order_id, {})[websocket] = username
        await self.broadcast(order_id, {"type": "join", "user": username})

    async def leave(self, order_id: int, websocket: WebSocket) -> None:
        room = self.rooms.get(order_id, {})
        username = room.pop(websocket, None)
        if not room:
            self.rooms.pop(order_id, None)
        if username is not None:
            await self.broadcast(order_id, {"type": "leave", "user": username})

    def members(self, order_id: int) -> list[str]:
        return sorted(self.rooms.get(order_id, {}).values())

    async def broadcast(self, order_id: int, message: dict[str, Any]) -> None:
        """Send to every member; members whose connection broke are dropped."""
        room = self.rooms.get(order_id, {})
        dead: list[WebSocket] = []
        for websocket in list(room):
            try:
                await websocket.send_json(message)
            except Exception:  # a closed socket: forget it
                dead.append(websocket)
        for websocket in dead:
            room.pop(websocket, None)
