"""Messages: what subscribers receive, and how published values become bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Message:
    """One published message, as every backend carries it: bytes on a channel."""

    channel: str
    data: bytes

    @property
    def text(self) -> str:
        """The data decoded as UTF-8."""
        return self.data.decode()

    def json(self) -> Any:
        """The data parsed as JSON."""
        return json.loads(self.data)


def _default(value: Any) -> Any:
    from ..encoders import jsonable_encoder

    return jsonable_encoder(value)


def encode(message: Any) -> bytes:
    """``bytes`` as they are, ``str`` as UTF-8, anything else as compact JSON.

    JSON goes through ``jsonable_encoder`` for what ``json`` cannot write (models,
    datetimes, decimals…); a value that is not JSON-able raises ``TypeError`` or
    ``ValueError`` here, before anything is sent.
    """
    if isinstance(message, bytes):
        return message
    if isinstance(message, str):
        return message.encode()
    if isinstance(message, bytearray | memoryview):
        return bytes(message)
    return json.dumps(
        message, default=_default, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()
