"""OpenID Connect discovery scheme."""

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from hasten.openapi.models import OpenIdConnect as OpenIdConnectModel
from hasten.security.base import SecurityBase, _challenge, _set_up

__all__ = ["OpenIdConnect"]


class OpenIdConnect(SecurityBase):
    """OpenID Connect (``openIdConnectUrl`` for discovery); returns the raw ``Authorization``.

    The header is not parsed or verified: do that in your own dependency.
    """

    model: OpenIdConnectModel
    auto_error: bool

    def __init__(
        self,
        *,
        openIdConnectUrl: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        entry = OpenIdConnectModel(openIdConnectUrl=openIdConnectUrl, description=description)
        _set_up(self, entry, scheme_name, auto_error)

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 (``WWW-Authenticate: Bearer``) raised when there is no ``Authorization``."""
        return _challenge({"WWW-Authenticate": "Bearer"}, HTTPException)

    async def __call__(self, request: HTTPConnection) -> str | None:
        header = request.headers.get("Authorization")
        if not header and self.auto_error:
            raise self.make_not_authenticated_error()
        return header or None
