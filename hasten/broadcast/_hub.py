"""What subscriptions and backends need of a `Broadcast` (no import of it: no cycle)."""

from __future__ import annotations

from typing import Any, Protocol


class Hub(Protocol):
    """The local fan-out: `Broadcast` implements it."""

    async def _join(self, subscription: Any) -> None: ...

    def _leave(self, subscription: Any) -> None: ...

    def _deliver(self, channel: str, data: bytes) -> None: ...

    def _connection_lost(self, reason: BaseException) -> None: ...
