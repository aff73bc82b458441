"""OAuth2 schemes, the password-flow login form and ``SecurityScopes``."""

from typing import Annotated, Any, cast

from starlette.requests import HTTPConnection

from hasten.exceptions import HTTPException
from hasten.openapi.models import OAuth2 as OAuth2Model
from hasten.openapi.models import OAuthFlows as OAuthFlowsModel
from hasten.param_functions import Form
from hasten.security.base import SecurityBase, _challenge, _set_up
from hasten.security.utils import get_authorization_scheme_param

__all__ = [
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "SecurityScopes",
]


class OAuth2(SecurityBase):
    """A generic OAuth2 scheme with the given ``flows``; returns the raw ``Authorization``."""

    model: OAuth2Model
    auto_error: bool

    def __init__(
        self,
        *,
        flows: OAuthFlowsModel | dict[str, dict[str, Any]] = OAuthFlowsModel(),
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        entry = OAuth2Model(flows=cast(OAuthFlowsModel, flows), description=description)
        _set_up(self, entry, scheme_name, auto_error)

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 (``WWW-Authenticate: Bearer``) raised when there is no token."""
        return _challenge({"WWW-Authenticate": "Bearer"}, HTTPException)

    def _fail(self) -> None:
        """Raise the 401 when ``auto_error`` is set (otherwise the caller returns ``None``)."""
        if self.auto_error:
            raise self.make_not_authenticated_error()

    def _bearer_token(self, request: HTTPConnection) -> str | None:
        authorization = request.headers.get("Authorization")
        scheme, token = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "bearer":
            self._fail()
            return None
        return token

    async def __call__(self, request: HTTPConnection) -> str | None:
        header = request.headers.get("Authorization")
        if not header:
            self._fail()
        return header or None


class OAuth2PasswordBearer(OAuth2):
    """Password flow with a bearer token; the dependency returns the token string."""

    def __init__(
        self,
        tokenUrl: str,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        password = {"tokenUrl": tokenUrl, "refreshUrl": refreshUrl, "scopes": scopes or {}}
        super().__init__(
            flows=OAuthFlowsModel(password=cast(Any, password)),
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._bearer_token(request)


class OAuth2AuthorizationCodeBearer(OAuth2):
    """Authorization-code flow with a bearer token; the dependency returns the token string."""

    def __init__(
        self,
        authorizationUrl: str,
        tokenUrl: str,
        refreshUrl: str | None = None,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        code_flow = {
            "authorizationUrl": authorizationUrl,
            "tokenUrl": tokenUrl,
            "refreshUrl": refreshUrl,
            "scopes": scopes or {},
        }
        super().__init__(
            flows=OAuthFlowsModel(authorizationCode=cast(Any, code_flow)),
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._bearer_token(request)


class SecurityScopes:
    """Declare it as a parameter to receive the scopes required by all ``Security()`` users.

    ``scopes`` is the list, ``scope_str`` the same joined with spaces.
    """

    def __init__(self, scopes: list[str] | None = None) -> None:
        self.scopes: list[str] = scopes or []
        self.scope_str: str = " ".join(self.scopes)


class OAuth2PasswordRequestForm:
    """The OAuth2 password-flow login form; use as a dependency (``Depends()``).

    Fields: ``username``, ``password``, optional ``grant_type`` (must be ``"password"`` when
    sent), ``scope`` (space-separated, exposed as the list ``scopes``), ``client_id``,
    ``client_secret``.
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """Like ``OAuth2PasswordRequestForm`` but ``grant_type=password`` is required."""

    def __init__(
        self,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )
