"""API keys sent in a query parameter, a header or a cookie."""

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.status import HTTP_401_UNAUTHORIZED

from hasten.openapi.models import APIKey, APIKeyIn
from hasten.security.base import SecurityBase

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]


class APIKeyBase(SecurityBase):
    """Shared behaviour: answer 401 (``WWW-Authenticate: APIKey``) when the key is missing."""

    model: APIKey

    def __init__(
        self,
        location: APIKeyIn,
        name: str,
        description: str | None,
        scheme_name: str | None,
        auto_error: bool,
    ) -> None:
        self.model = APIKey.model_validate(
            {"in": location, "name": name, "description": description}
        )
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 raised when no key was sent (override to customise it)."""
        return HTTPException(
            status_code=HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "APIKey"},
        )

    def check_api_key(self, api_key: str | None) -> str | None:
        """Return the key, or raise (``auto_error``) / return ``None`` when it is empty."""
        if api_key:
            return api_key
        if self.auto_error:
            raise self.make_not_authenticated_error()
        return None


class APIKeyQuery(APIKeyBase):
    """An API key in the query string: ``?{name}=key``. The dependency returns the key."""

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(APIKeyIn.query, name, description, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(request.query_params.get(self.model.name))


class APIKeyHeader(APIKeyBase):
    """An API key in the ``{name}`` header. The dependency returns the key."""

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(APIKeyIn.header, name, description, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(request.headers.get(self.model.name))


class APIKeyCookie(APIKeyBase):
    """An API key in the ``{name}`` cookie. The dependency returns the key."""

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(APIKeyIn.cookie, name, description, scheme_name, auto_error)

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self.check_api_key(request.cookies.get(self.model.name))
