"""Request data structures: ``UploadFile`` and Starlette's re-exports, plus ``Default``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, TypeVar, cast

from pydantic import GetJsonSchemaHandler
from pydantic_core import core_schema
from starlette.datastructures import URL as URL
from starlette.datastructures import Address as Address
from starlette.datastructures import FormData as FormData
from starlette.datastructures import Headers as Headers
from starlette.datastructures import QueryParams as QueryParams
from starlette.datastructures import State as State
from starlette.datastructures import UploadFile as StarletteUploadFile

__all__ = [
    "URL",
    "Address",
    "Default",
    "DefaultPlaceholder",
    "DefaultType",
    "FormData",
    "Headers",
    "QueryParams",
    "State",
    "UploadFile",
]


class UploadFile(StarletteUploadFile):
    """A file uploaded in a multipart request; declare it as an endpoint parameter."""

    file: BinaryIO
    filename: str | None
    size: int | None
    headers: Headers

    async def write(self, data: bytes) -> None:
        """Write bytes to the file (in the threadpool when it is on disk)."""
        return await super().write(data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all when negative)."""
        return await super().read(size)

    async def seek(self, offset: int) -> None:
        """Move to ``offset`` in the file."""
        return await super().seek(offset)

    async def close(self) -> None:
        """Close the file."""
        return await super().close()

    # As a Pydantic type: any Starlette upload is accepted as it is, and the JSON Schema is
    # a binary string (what OpenAPI 3.1 uses for a file in a multipart body).
    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: Callable[[Any], Mapping[str, Any]]
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(cls._validate)

    @classmethod
    def _validate(cls, value: Any, _info: Any) -> UploadFile:
        # (FastAPI's tests call it by this name.)
        if isinstance(value, StarletteUploadFile):
            return cast(UploadFile, value)
        raise ValueError(f"Expected UploadFile, received: {type(value)}")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: Mapping[str, Any], handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return dict(_FILE_JSON_SCHEMA)


_FILE_JSON_SCHEMA: Mapping[str, str] = {
    "type": "string",
    "contentMediaType": "application/octet-stream",
}


class DefaultPlaceholder:
    """Marks a value as "not set by the user", so settings can be inherited."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DefaultPlaceholder) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("DefaultPlaceholder", id(self.value)))

    def __repr__(self) -> str:
        return f"Default({self.value!r})"


DefaultType = TypeVar("DefaultType")


def Default(value: DefaultType) -> DefaultType:
    """Wrap ``value`` as a default that an explicit argument overrides."""
    return DefaultPlaceholder(value)  # type: ignore[return-value]


_Unset: Any = Default(None)
