"""OpenID Connect discovery scheme."""

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.status import HTTP_401_UNAUTHORIZED

from hasten.openapi.models import OpenIdConnect as OpenIdConnectModel
from hasten.security.base import SecurityBase

__all__ = ["OpenIdConnect"]


class OpenIdConnect(SecurityBase):
    """OpenID Connect (``openIdConnectUrl`` for discovery); returns the raw ``Authorization``.

    The header is not parsed or verified: do that in your own dependency.
    """

    model: OpenIdConnectModel

    def __init__(
        self,
        *,
        openIdConnectUrl: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = OpenIdConnectModel(openIdConnectUrl=openIdConnectUrl, description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 (``WWW-Authenticate: Bearer``) raised when there is no ``Authorization``."""
        return HTTPException(
            status_code=HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        authorization = request.headers.get("Authorization")
        if authorization:
            return authorization
        if self.auto_error:
            raise self.make_not_authenticated_error()
        return None
