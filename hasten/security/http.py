"""HTTP authentication schemes: Basic, Bearer, Digest and a generic ``HTTPBase``.

All of them read ``Authorization: <scheme> <credentials>``. ``HTTPBase`` takes any scheme,
Bearer and Digest insist on theirs (``_required_scheme``), and Basic also decodes the
``user:password`` pair.
"""

from base64 import b64decode
from typing import ClassVar

from pydantic import BaseModel
from starlette.requests import HTTPConnection

from hasten.exceptions import HTTPException
from hasten.openapi.models import HTTPBase as HTTPBaseModel
from hasten.openapi.models import HTTPBearer as HTTPBearerModel
from hasten.security.base import SecurityBase, _challenge, _set_up
from hasten.security.utils import get_authorization_scheme_param

__all__ = [
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
]


class HTTPBasicCredentials(BaseModel):
    """What ``HTTPBasic`` returns: the decoded user name and password."""

    username: str
    password: str


class HTTPAuthorizationCredentials(BaseModel):
    """What ``HTTPBearer``/``HTTPDigest`` return: ``Authorization: <scheme> <credentials>``."""

    scheme: str
    credentials: str


def _basic_pair(encoded: str) -> tuple[str, str]:
    """``(user, password)`` from Basic's base64 parameter; ``ValueError`` when malformed.

    (``binascii.Error`` and ``UnicodeDecodeError`` are ``ValueError`` subclasses too.)
    """
    user, colon, password = b64decode(encoded).decode("ascii").partition(":")
    if not colon:
        raise ValueError("no ':' between user name and password")
    return user, password


class HTTPBase(SecurityBase):
    """An ``Authorization: <scheme> <credentials>`` header with any scheme."""

    model: HTTPBaseModel
    auto_error: bool
    # Lower-case scheme the header must name; ``None`` accepts any.
    _required_scheme: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        scheme: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        _set_up(
            self, HTTPBaseModel(scheme=scheme, description=description), scheme_name, auto_error
        )

    def make_authenticate_headers(self) -> dict[str, str]:
        """The ``WWW-Authenticate`` header sent with the 401."""
        return {"WWW-Authenticate": self.model.scheme.title()}

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 raised when credentials are missing or malformed."""
        return _challenge(self.make_authenticate_headers(), HTTPException)

    def _refuse(self) -> None:
        """No usable credentials: raise the 401 with ``auto_error``, else let the caller
        return ``None``."""
        if self.auto_error:
            raise self.make_not_authenticated_error()

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        header = request.headers.get("Authorization")
        scheme, credentials = get_authorization_scheme_param(header)
        wanted = self._required_scheme
        if header and scheme and credentials and wanted in (None, scheme.lower()):
            return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)
        self._refuse()
        return None


class HTTPBasic(HTTPBase):
    """HTTP Basic auth; returns ``HTTPBasicCredentials``. ``realm`` goes in the 401 header."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="basic", scheme_name=scheme_name, description=description, auto_error=auto_error
        )
        self.realm = realm

    def make_authenticate_headers(self) -> dict[str, str]:
        challenge = f'Basic realm="{self.realm}"' if self.realm else "Basic"
        return {"WWW-Authenticate": challenge}

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        header = request.headers.get("Authorization")
        scheme, encoded = get_authorization_scheme_param(header)
        if not header or scheme.lower() != "basic":
            self._refuse()
            return None
        # A Basic header that does not decode is refused even with auto_error=False.
        try:
            user, password = _basic_pair(encoded)
        except ValueError as exc:
            raise self.make_not_authenticated_error() from exc
        return HTTPBasicCredentials(username=user, password=password)


class HTTPBearer(HTTPBase):
    """``Authorization: Bearer <token>``; returns ``HTTPAuthorizationCredentials``."""

    _required_scheme = "bearer"

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        entry = HTTPBearerModel(bearerFormat=bearerFormat, description=description)
        _set_up(self, entry, scheme_name, auto_error)


class HTTPDigest(HTTPBase):
    """``Authorization: Digest <params>``; returns the raw ``HTTPAuthorizationCredentials``.

    The parameters are not parsed or checked: do that in your own dependency.
    """

    _required_scheme = "digest"

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="digest", scheme_name=scheme_name, description=description, auto_error=auto_error
        )
