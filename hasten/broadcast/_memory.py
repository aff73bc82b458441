"""The in-process backend: a published message goes straight to this process's subscribers."""

from __future__ import annotations

from ._hub import Hub


class MemoryBackend:
    """``memory://``: no I/O, no task; subscribers of other processes see nothing."""

    def __init__(self, broadcast: Hub) -> None:
        self._broadcast = broadcast

    @property
    def available(self) -> bool:
        return True

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def publish(self, channel: str, data: bytes) -> None:
        self._broadcast._deliver(channel, data)

    async def watch(self, channel: str) -> None:
        return None

    def unwatch(self, channel: str) -> None:
        return None
