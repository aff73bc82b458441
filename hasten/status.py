"""HTTP and WebSocket status code constants, the same names as ``starlette.status``."""

from typing import Any

from starlette import status as _status
from starlette.status import *  # noqa: F403
from starlette.status import __all__ as __all__


def __getattr__(name: str) -> Any:
    # Deprecated aliases (e.g. ``HTTP_422_UNPROCESSABLE_ENTITY``) warn through Starlette.
    return getattr(_status, name)


def __dir__() -> list[str]:
    return dir(_status)
