"""API keys sent in a query parameter, a header or a cookie.

The three public schemes differ only in where they look; :class:`_KeyInRequest` holds what they
have in common, and :data:`_SOURCES` says where each location is read from.
"""

from collections.abc import Callable, Mapping
from typing import ClassVar

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from hasten.openapi.models import APIKey, APIKeyIn
from hasten.security.base import SecurityBase, _challenge, _set_up

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]

_SOURCES: dict[APIKeyIn, Callable[[HTTPConnection], Mapping[str, str]]] = {
    APIKeyIn.query: lambda connection: connection.query_params,
    APIKeyIn.header: lambda connection: connection.headers,
    APIKeyIn.cookie: lambda connection: connection.cookies,
}


class APIKeyBase(SecurityBase):
    """Shared behaviour: answer 401 (``WWW-Authenticate: APIKey``) when the key is missing."""

    model: APIKey
    auto_error: bool

    def __init__(
        self,
        location: APIKeyIn,
        name: str,
        description: str | None,
        scheme_name: str | None,
        auto_error: bool,
    ) -> None:
        entry = APIKey.model_validate({"in": location, "name": name, "description": description})
        _set_up(self, entry, scheme_name, auto_error)

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 raised when no key was sent (override to customise it)."""
        return _challenge({"WWW-Authenticate": "APIKey"}, HTTPException)

    def check_api_key(self, api_key: str | None) -> str | None:
        """Return the key, or raise (``auto_error``) / return ``None`` when it is empty."""
        if not api_key and self.auto_error:
            raise self.make_not_authenticated_error()
        return api_key or None


class _KeyInRequest(APIKeyBase):
    """A key read from the location the subclass names in ``_location``."""

    _location: ClassVar[APIKeyIn]

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(self._location, name, description, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        values = _SOURCES[self._location](request)
        return self.check_api_key(values.get(self.model.name))


class APIKeyQuery(_KeyInRequest):
    """An API key in the query string: ``?{name}=key``. The dependency returns the key."""

    _location = APIKeyIn.query


class APIKeyHeader(_KeyInRequest):
    """An API key in the ``{name}`` header. The dependency returns the key."""

    _location = APIKeyIn.header


class APIKeyCookie(_KeyInRequest):
    """An API key in the ``{name}`` cookie. The dependency returns the key."""

    _location = APIKeyIn.cookie
