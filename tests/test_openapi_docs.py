"""Swagger UI / ReDoc pages, OpenAPI models and the ``hasten.utils`` helpers."""

from __future__ import annotations

import inspect
import warnings

import pytest
from pydantic import ValidationError

from hasten import FastAPI
from hasten.datastructures import Default, DefaultPlaceholder
from hasten.exceptions import FastAPIDeprecationWarning
from hasten.openapi.constants import METHODS_WITH_BODY, REF_PREFIX, REF_TEMPLATE
from hasten.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
    swagger_ui_default_parameters,
)
from hasten.openapi.models import (
    APIKey,
    APIKeyIn,
    OAuth2,
    OAuthFlowPassword,
    OAuthFlows,
    OpenAPI,
    Schema,
)
from hasten.testclient import TestClient
from hasten.utils import (
    deep_dict_update,
    generate_operation_id_for_path,
    get_path_param_names,
    get_value_or_default,
    is_body_allowed_for_status_code,
)


def _body(response: object) -> str:
    return bytes(response.body).decode()  # type: ignore[attr-defined]


def test_swagger_defaults_use_the_cdn_and_default_parameters() -> None:
    defaults = inspect.signature(get_swagger_ui_html).parameters
    html = _body(get_swagger_ui_html(openapi_url="/openapi.json", title="T"))
    assert defaults["swagger_js_url"].default in html
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" in html
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css" in html
    assert "<title>T</title>" in html
    assert "url: '/openapi.json'," in html
    for line in (
        '"dom_id": "#swagger-ui",',
        '"layout": "BaseLayout",',
        '"deepLinking": true,',
        '"showExtensions": true,',
        '"showCommonExtensions": true,',
        "SwaggerUIBundle.presets.apis,",
        "SwaggerUIBundle.SwaggerUIStandalonePreset",
    ):
        assert line in html
    assert "oauth2RedirectUrl" not in html
    assert "initOAuth" not in html
    assert swagger_ui_default_parameters["dom_id"] == "#swagger-ui"


def test_swagger_parameters_override_and_escape() -> None:
    html = _body(
        get_swagger_ui_html(
            openapi_url="/o",
            title="T",
            oauth2_redirect_url="/docs/oauth2-redirect",
            init_oauth={"clientId": "</script><script>"},
            swagger_ui_parameters={"deepLinking": False, "syntaxHighlight": {"theme": "obsidian"}},
        )
    )
    assert '"deepLinking": false,' in html
    assert '"syntaxHighlight": {"theme": "obsidian"},' in html
    assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'," in html
    assert "ui.initOAuth(" in html
    assert "</script><script>" not in html
    assert "\\u003c/script\\u003e\\u003cscript\\u003e" in html


def test_redoc_page() -> None:
    html = _body(get_redoc_html(openapi_url="/o", title="R"))
    assert "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js" in html
    assert '<redoc spec-url="/o"></redoc>' in html
    assert "fonts.googleapis.com" in html
    plain = _body(get_redoc_html(openapi_url="/o", title="R", with_google_fonts=False))
    assert "fonts.googleapis.com" not in plain


def test_oauth2_redirect_page() -> None:
    response = get_swagger_ui_oauth2_redirect_html()
    assert response.media_type == "text/html"
    assert "window.opener.swaggerUIRedirectOauth2" in _body(response)


def test_app_serves_docs_pages() -> None:
    client = TestClient(FastAPI(swagger_ui_init_oauth={"appName": "A"}))
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"] == "text/html; charset=utf-8"
    assert '"appName": "A"' in docs.text
    assert "swagger-ui-dist" in docs.text
    assert "redoc" in client.get("/redoc").text
    redirect = client.get("/docs/oauth2-redirect")
    assert "swaggerUIRedirectOauth2" in redirect.text


def test_constants() -> None:
    assert METHODS_WITH_BODY == {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}
    assert REF_PREFIX == "#/components/schemas/"
    assert REF_TEMPLATE.format(model="Item") == "#/components/schemas/Item"


def test_models_dump_with_aliases_and_reject_bad_types() -> None:
    scheme = APIKey(**{"in": APIKeyIn.header}, name="X-Key")
    assert scheme.model_dump(mode="json", by_alias=True, exclude_none=True) == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Key",
    }
    oauth = OAuth2(flows=OAuthFlows(password=OAuthFlowPassword(tokenUrl="/t")))
    assert oauth.model_dump(mode="json", by_alias=True, exclude_none=True) == {
        "type": "oauth2",
        "flows": {"password": {"scopes": {}, "tokenUrl": "/t"}},
    }
    assert Schema(type=["string", "null"]).type == ["string", "null"]
    with pytest.raises(ValidationError, match="2 validation errors for Schema"):
        Schema(type=True)  # type: ignore[arg-type]
    document = OpenAPI.model_validate(
        {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "x-logo": {"url": "u"}}
    )
    assert document.model_dump(by_alias=True, exclude_none=True)["x-logo"] == {"url": "u"}


@pytest.mark.parametrize(
    ("code", "allowed"),
    [(None, True), ("default", True), ("4XX", True), (100, False), ("199", False), (200, True),
     (204, False), (205, False), ("304", False), (404, True)],
)  # fmt: skip
def test_is_body_allowed_for_status_code(code: int | str | None, allowed: bool) -> None:
    assert is_body_allowed_for_status_code(code) is allowed


def test_small_helpers() -> None:
    assert get_path_param_names("/a/{x}/b/{y:path}") == {"x", "y:path"}
    target = {"a": {"b": 1, "l": [1]}, "c": 1}
    deep_dict_update(target, {"a": {"d": 2, "l": [2]}, "c": {"e": 3}})
    assert target == {"a": {"b": 1, "l": [1, 2], "d": 2}, "c": {"e": 3}}
    placeholder = Default(1)
    assert isinstance(placeholder, DefaultPlaceholder)
    assert get_value_or_default(placeholder, Default(2), 3) == 3
    assert get_value_or_default(placeholder, Default(2)) is placeholder
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert generate_operation_id_for_path(name="read", path="/a/{b}", method="GET") == (
            "read_a__b__get"
        )
    assert caught[0].category is FastAPIDeprecationWarning
