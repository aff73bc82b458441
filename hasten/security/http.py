"""HTTP authentication schemes: Basic, Bearer, Digest and a generic ``HTTPBase``."""

import binascii
from base64 import b64decode

from pydantic import BaseModel
from starlette.requests import HTTPConnection
from starlette.status import HTTP_401_UNAUTHORIZED

from hasten.exceptions import HTTPException
from hasten.openapi.models import HTTPBase as HTTPBaseModel
from hasten.openapi.models import HTTPBearer as HTTPBearerModel
from hasten.security.base import SecurityBase
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


class HTTPBase(SecurityBase):
    """An ``Authorization: <scheme> <credentials>`` header with any scheme."""

    model: HTTPBaseModel

    def __init__(
        self,
        *,
        scheme: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = HTTPBaseModel(scheme=scheme, description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_authenticate_headers(self) -> dict[str, str]:
        """The ``WWW-Authenticate`` header sent with the 401."""
        return {"WWW-Authenticate": self.model.scheme.title()}

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 raised when credentials are missing or malformed."""
        return HTTPException(
            status_code=HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers=self.make_authenticate_headers(),
        )

    def _fail(self) -> None:
        """Raise the 401 when ``auto_error`` is set (otherwise the caller returns ``None``)."""
        if self.auto_error:
            raise self.make_not_authenticated_error()

    def _credentials(
        self, request: HTTPConnection, expected_scheme: str | None
    ) -> HTTPAuthorizationCredentials | None:
        authorization = request.headers.get("Authorization")
        scheme, credentials = get_authorization_scheme_param(authorization)
        if not (authorization and scheme and credentials):
            self._fail()
            return None
        if expected_scheme is not None and scheme.lower() != expected_scheme:
            self._fail()
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        return self._credentials(request, None)


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
        if self.realm:
            return {"WWW-Authenticate": f'Basic realm="{self.realm}"'}
        return {"WWW-Authenticate": "Basic"}

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        authorization = request.headers.get("Authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "basic":
            self._fail()
            return None
        # Malformed credentials always fail, even with auto_error=False.
        try:
            decoded = b64decode(param).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise self.make_not_authenticated_error() from exc
        username, colon, password = decoded.partition(":")
        if not colon:
            raise self.make_not_authenticated_error()
        return HTTPBasicCredentials(username=username, password=password)


class HTTPBearer(HTTPBase):
    """``Authorization: Bearer <token>``; returns ``HTTPAuthorizationCredentials``."""

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = HTTPBearerModel(bearerFormat=bearerFormat, description=description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        return self._credentials(request, "bearer")


class HTTPDigest(HTTPBase):
    """``Authorization: Digest <params>``; returns the raw ``HTTPAuthorizationCredentials``."""

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

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        return self._credentials(request, "digest")
