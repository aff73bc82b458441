"""hasten.security: each scheme called directly on a Request built from an ASGI scope."""

from __future__ import annotations

import inspect
from base64 import b64encode
from typing import Annotated, Any, get_origin

import pytest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection, Request

from hasten import params
from hasten.exceptions import HTTPException
from hasten.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    OpenIdConnect,
    SecurityScopes,
)
from hasten.security.api_key import APIKeyBase
from hasten.security.base import SecurityBase
from hasten.security.http import HTTPBase
from hasten.security.utils import get_authorization_scheme_param

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_request(
    headers: dict[str, str] | None = None, query: str = "", scope_type: str = "http"
) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": scope_type, "method": "GET", "path": "/", "headers": raw}
    scope["query_string"] = query.encode()
    return Request(scope)


def basic(value: str) -> dict[str, str]:
    return {"Authorization": "Basic " + b64encode(value.encode()).decode()}


async def assert_401(scheme: Any, request: Request, www_authenticate: str) -> None:
    with pytest.raises(StarletteHTTPException) as exc_info:
        await scheme(request)
    assert exc_info.value.status_code == 401
    assert exc_info.value.detail == "Not authenticated"
    assert exc_info.value.headers == {"WWW-Authenticate": www_authenticate}


def dump(scheme: SecurityBase) -> dict[str, Any]:
    return scheme.model.model_dump(mode="json", by_alias=True, exclude_none=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("", "")),
        ("", ("", "")),
        ("Bearer abc", ("Bearer", "abc")),
        ("Bearer   abc  ", ("Bearer", "abc")),
        ("Bearer", ("Bearer", "")),
        ("Digest a=1, b=2", ("Digest", "a=1, b=2")),
    ],
)
def test_get_authorization_scheme_param(value: str | None, expected: tuple[str, str]) -> None:
    assert get_authorization_scheme_param(value) == expected


# --- API keys -----------------------------------------------------------------------------------


async def test_api_key_query_header_cookie() -> None:
    assert await APIKeyQuery(name="key")(make_request(query="key=secret")) == "secret"
    assert await APIKeyHeader(name="X-Key")(make_request({"X-Key": "secret"})) == "secret"
    cookie = make_request({"Cookie": "session=abc"})
    assert await APIKeyCookie(name="session")(cookie) == "abc"


@pytest.mark.parametrize(
    "scheme", [APIKeyQuery(name="key"), APIKeyHeader(name="key"), APIKeyCookie(name="key")]
)
async def test_api_key_missing(scheme: APIKeyBase) -> None:
    await assert_401(scheme, make_request(), "APIKey")
    await assert_401(scheme, make_request(query="key="), "APIKey")


async def test_api_key_missing_without_auto_error() -> None:
    assert await APIKeyHeader(name="key", auto_error=False)(make_request()) is None


async def test_api_key_error_is_starlette_http_exception() -> None:
    error = APIKeyQuery(name="k").make_not_authenticated_error()
    assert type(error) is StarletteHTTPException


def test_api_key_models() -> None:
    assert dump(APIKeyHeader(name="X-Key", description="Key")) == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Key",
        "description": "Key",
    }
    assert dump(APIKeyQuery(name="k"))["in"] == "query"
    assert dump(APIKeyCookie(name="k"))["in"] == "cookie"
    assert APIKeyCookie(name="k").scheme_name == "APIKeyCookie"
    assert APIKeyCookie(name="k", scheme_name="Session").scheme_name == "Session"


# --- HTTP ---------------------------------------------------------------------------------------


async def test_http_basic() -> None:
    credentials = await HTTPBasic()(make_request(basic("john:se:cret")))
    assert credentials == HTTPBasicCredentials(username="john", password="se:cret")
    lower = {"Authorization": "basic " + b64encode(b"a:").decode()}
    assert await HTTPBasic()(make_request(lower)) == HTTPBasicCredentials(username="a", password="")


async def test_http_basic_missing_or_other_scheme() -> None:
    await assert_401(HTTPBasic(), make_request(), "Basic")
    await assert_401(HTTPBasic(), make_request({"Authorization": "Bearer x"}), "Basic")
    await assert_401(HTTPBasic(realm="simple"), make_request(), 'Basic realm="simple"')
    assert await HTTPBasic(auto_error=False)(make_request()) is None


@pytest.mark.parametrize(
    "header",
    [
        basic("no-colon"),
        {"Authorization": "Basic not base64!"},
        {"Authorization": "Basic " + b64encode("ü:x".encode()).decode()},
    ],
)
async def test_http_basic_malformed_fails_even_without_auto_error(header: dict[str, str]) -> None:
    await assert_401(HTTPBasic(auto_error=False), make_request(header), "Basic")


async def test_http_bearer() -> None:
    result = await HTTPBearer()(make_request({"Authorization": "Bearer tok"}))
    assert result == HTTPAuthorizationCredentials(scheme="Bearer", credentials="tok")
    await assert_401(HTTPBearer(), make_request(), "Bearer")
    await assert_401(HTTPBearer(), make_request({"Authorization": "Bearer"}), "Bearer")
    await assert_401(HTTPBearer(), make_request({"Authorization": "Basic x"}), "Bearer")
    assert await HTTPBearer(auto_error=False)(make_request({"Authorization": "Basic x"})) is None


async def test_http_digest() -> None:
    result = await HTTPDigest()(make_request({"Authorization": "Digest foobar"}))
    assert result == HTTPAuthorizationCredentials(scheme="Digest", credentials="foobar")
    await assert_401(HTTPDigest(), make_request({"Authorization": "Other x"}), "Digest")
    assert await HTTPDigest(auto_error=False)(make_request()) is None


async def test_http_base_any_scheme() -> None:
    scheme = HTTPBase(scheme="Other")
    result = await scheme(make_request({"Authorization": "Other foobar"}))
    assert result == HTTPAuthorizationCredentials(scheme="Other", credentials="foobar")
    await assert_401(scheme, make_request(), "Other")
    assert await HTTPBase(scheme="x", auto_error=False)(make_request()) is None


def test_http_models() -> None:
    assert dump(HTTPBasic()) == {"type": "http", "scheme": "basic"}
    assert dump(HTTPBearer(bearerFormat="JWT")) == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert dump(HTTPDigest(description="d")) == {
        "type": "http",
        "scheme": "digest",
        "description": "d",
    }
    assert HTTPBearer(scheme_name="Token").scheme_name == "Token"
    assert HTTPDigest().scheme_name == "HTTPDigest"


def test_http_error_type() -> None:
    assert isinstance(HTTPBearer().make_not_authenticated_error(), HTTPException)


# --- OAuth2 / OpenID Connect -------------------------------------------------------------------


async def test_oauth2_password_bearer() -> None:
    scheme = OAuth2PasswordBearer(tokenUrl="token")
    assert await scheme(make_request({"Authorization": "Bearer abc"})) == "abc"
    assert await scheme(make_request({"Authorization": "bearer abc"})) == "abc"
    await assert_401(scheme, make_request(), "Bearer")
    await assert_401(scheme, make_request({"Authorization": "Basic abc"}), "Bearer")
    lenient = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)
    assert await lenient(make_request({"Authorization": "Basic abc"})) is None


async def test_oauth2_authorization_code_bearer() -> None:
    scheme = OAuth2AuthorizationCodeBearer(authorizationUrl="authorize", tokenUrl="token")
    assert await scheme(make_request({"Authorization": "Bearer abc"})) == "abc"
    await assert_401(scheme, make_request({"Authorization": "Other abc"}), "Bearer")


async def test_oauth2_and_openid_connect_return_raw_header() -> None:
    for scheme in (OAuth2(), OpenIdConnect(openIdConnectUrl="/.well-known")):
        assert await scheme(make_request({"Authorization": "Anything x"})) == "Anything x"
        await assert_401(scheme, make_request(), "Bearer")
    assert await OAuth2(auto_error=False)(make_request()) is None
    lenient = OpenIdConnect(openIdConnectUrl="/x", auto_error=False)
    assert await lenient(make_request()) is None


async def test_schemes_accept_websocket_connections() -> None:
    connection = HTTPConnection(
        {"type": "websocket", "path": "/", "headers": [(b"authorization", b"Bearer t")]}
    )
    assert await OAuth2PasswordBearer(tokenUrl="t")(connection) == "t"  # type: ignore[arg-type]


def test_oauth2_models() -> None:
    bearer = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Read me"}, refreshUrl="r")
    assert dump(bearer) == {
        "type": "oauth2",
        "flows": {
            "password": {"refreshUrl": "r", "scopes": {"me": "Read me"}, "tokenUrl": "token"}
        },
    }
    code = OAuth2AuthorizationCodeBearer(authorizationUrl="a", tokenUrl="t", description="c")
    assert dump(code) == {
        "type": "oauth2",
        "description": "c",
        "flows": {"authorizationCode": {"scopes": {}, "authorizationUrl": "a", "tokenUrl": "t"}},
    }
    assert dump(OAuth2(flows={"implicit": {"authorizationUrl": "a"}})) == {
        "type": "oauth2",
        "flows": {"implicit": {"scopes": {}, "authorizationUrl": "a"}},
    }
    assert dump(OpenIdConnect(openIdConnectUrl="/conf")) == {
        "type": "openIdConnect",
        "openIdConnectUrl": "/conf",
    }
    assert OAuth2PasswordBearer(tokenUrl="t").scheme_name == "OAuth2PasswordBearer"


def test_call_signatures_for_the_dependency_engine() -> None:
    for scheme in (
        HTTPBasic(),
        HTTPBearer(),
        APIKeyQuery(name="k"),
        OAuth2(),
        OpenIdConnect(openIdConnectUrl="/"),
    ):
        parameters = list(inspect.signature(scheme.__call__).parameters.values())
        assert [p.name for p in parameters] == ["request"]
        assert inspect.iscoroutinefunction(scheme.__call__)


def test_password_request_form() -> None:
    form = OAuth2PasswordRequestForm(username="u", password="p", scope="a b  c")
    assert (form.username, form.password, form.scopes) == ("u", "p", ["a", "b", "c"])
    assert (form.grant_type, form.client_id, form.client_secret) == (None, None, None)
    strict = OAuth2PasswordRequestFormStrict(grant_type="password", username="u", password="p")
    assert strict.grant_type == "password" and strict.scopes == []


def test_password_request_form_declares_form_fields() -> None:
    signature = inspect.signature(OAuth2PasswordRequestForm.__init__)
    names = list(signature.parameters)[1:]
    assert names == ["grant_type", "username", "password", "scope", "client_id", "client_secret"]
    password = signature.parameters["password"].annotation
    assert get_origin(password) is Annotated
    marker = password.__metadata__[0]
    assert isinstance(marker, params.Form)
    assert marker.json_schema_extra == {"format": "password"}
    grant = signature.parameters["grant_type"]
    assert grant.default is None and grant.annotation.__metadata__[0].metadata
    strict = inspect.signature(OAuth2PasswordRequestFormStrict.__init__)
    assert strict.parameters["grant_type"].default is inspect.Parameter.empty


def test_security_scopes() -> None:
    assert SecurityScopes().scopes == [] and SecurityScopes().scope_str == ""
    scopes = SecurityScopes(["me", "items"])
    assert scopes.scopes == ["me", "items"] and scopes.scope_str == "me items"
