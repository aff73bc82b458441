"""HTML pages for the interactive docs: Swagger UI, ReDoc and Swagger UI's OAuth2 redirect.

The page functions default to loading the UIs from the jsDelivr CDN, like FastAPI. Every value
written into an inline ``<script>`` is JSON-encoded with ``<``, ``>`` and ``&`` escaped, so user
configuration cannot close the script element.

The package also ships the UIs' files (``_assets/``, copied from the ``swagger-ui-dist`` and
``redoc`` npm packages by ``scripts/vendor-docs``; versions and hashes in
``_assets/VERSIONS.json``). :func:`bundled_swagger_ui_urls` and :func:`bundled_redoc_urls` give
the page arguments that load them from the app itself, and :func:`bundled_asset_response` serves
them, so the docs work without any network access.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hasten.encoders import jsonable_encoder

__all__ = [
    "bundled_asset_response",
    "bundled_redoc_urls",
    "bundled_swagger_ui_urls",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
    "swagger_ui_default_parameters",
]

_FAVICON = "https://fastapi.tiangolo.com/img/favicon.png"
_SWAGGER_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
_REDOC_JS = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
_GOOGLE_FONTS = "https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700"

# The configuration every Swagger UI page starts from; ``swagger_ui_parameters`` is merged on top.
swagger_ui_default_parameters: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
}

_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element."""
    return json.dumps(jsonable_encoder(value)).translate(_SCRIPT_ESCAPES)


def _document(head: list[str], body: list[str]) -> str:
    """An HTML5 document from the lines of its head and body (each nested two spaces)."""
    nested = ["  <head>", *_indent(head), "  </head>", "  <body>", *_indent(body), "  </body>"]
    return "\n".join(["<!DOCTYPE html>", "<html>", *nested, "</html>", ""])


def _indent(lines: list[str]) -> list[str]:
    return [f"    {line}" if line else "" for line in lines]


def _swagger_ui_script(
    openapi_url: str,
    settings: dict[str, Any],
    oauth2_redirect_url: str | None,
    init_oauth: dict[str, Any] | None,
) -> list[str]:
    """The inline script that starts Swagger UI, one line per configuration entry."""
    entries = [f"url: '{openapi_url}',"]
    entries += [f"{_script_json(key)}: {_script_json(value)}," for key, value in settings.items()]
    if oauth2_redirect_url:
        entries.append(f"oauth2RedirectUrl: window.location.origin + '{oauth2_redirect_url}',")
    entries.append(
        "presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],"
    )
    script = ["<script>", "  const ui = SwaggerUIBundle({"]
    script += [f"    {entry}" for entry in entries]
    script.append("  });")
    if init_oauth:
        script.append(f"  ui.initOAuth({_script_json(init_oauth)});")
    script.append("</script>")
    return script


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = f"{_SWAGGER_CDN}/swagger-ui-bundle.js",
    swagger_css_url: str = f"{_SWAGGER_CDN}/swagger-ui.css",
    swagger_favicon_url: str = _FAVICON,
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The Swagger UI page (served at ``/docs``) that loads the document at ``openapi_url``.

    ``swagger_ui_parameters`` override :data:`swagger_ui_default_parameters`; ``init_oauth`` is
    passed to ``ui.initOAuth()``; ``oauth2_redirect_url`` is the path of the redirect page.
    """
    settings = {**swagger_ui_default_parameters, **(swagger_ui_parameters or {})}
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
        f'<link type="text/css" rel="stylesheet" href="{swagger_css_url}">',
        f'<link rel="shortcut icon" href="{swagger_favicon_url}">',
        f"<title>{title}</title>",
    ]
    body = [
        '<div id="swagger-ui"></div>',
        f'<script src="{swagger_js_url}"></script>',
        *_swagger_ui_script(openapi_url, settings, oauth2_redirect_url, init_oauth),
    ]
    return HTMLResponse(_document(head, body))


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = _REDOC_JS,
    redoc_favicon_url: str = _FAVICON,
    with_google_fonts: bool = True,
) -> HTMLResponse:
    """The ReDoc page (served at ``/redoc``) that renders the document at ``openapi_url``."""
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f'<link rel="shortcut icon" href="{redoc_favicon_url}">',
    ]
    if with_google_fonts:
        head.append(f'<link rel="stylesheet" href="{_GOOGLE_FONTS}">')
    # ReDoc leaves the page around it alone, so the body's default margin has to go here.
    head.append("<style>body { margin: 0; padding: 0; }</style>")
    body = [
        "<noscript>ReDoc needs JavaScript to show this documentation.</noscript>",
        f'<redoc spec-url="{openapi_url}"></redoc>',
        f'<script src="{redoc_js_url}"></script>',
    ]
    return HTMLResponse(_document(head, body))


# Swagger UI's OAuth2 redirect page: it hands the authorization response (in the URL's fragment
# or query string) back to the Swagger UI window that opened it, then closes itself.
_OAUTH2_REDIRECT_SCRIPT = """\
    'use strict';
    function readAuthResponse() {
        var raw = /code|token|error/.test(window.location.hash)
            ? window.location.hash.substring(1).replace('?', '&')
            : window.location.search.substring(1);
        var result = {};
        if (!raw) {
            return result;
        }
        raw.split('&').forEach(function (pair) {
            var at = pair.indexOf('=');
            var key = at < 0 ? pair : pair.substring(0, at);
            var value = at < 0 ? '' : pair.substring(at + 1);
            result[decodeURIComponent(key)] = decodeURIComponent(value);
        });
        return result;
    }

    function run() {
        var oauth2 = window.opener.swaggerUIRedirectOauth2;
        var sentState = oauth2.state;
        var redirectUrl = oauth2.redirectUrl;
        var qp = readAuthResponse();
        var isValid = qp.state === sentState;
        var flow = oauth2.auth.schema.get("flow");
        var codeFlow = flow === "accessCode" || flow === "authorizationCode" ||
            flow === "authorization_code";

        if (codeFlow && !oauth2.auth.code) {
            if (!isValid) {
                oauth2.errCb({
                    authId: oauth2.auth.name,
                    source: "auth",
                    level: "warning",
                    message: "Authorization may be unsafe, passed state was changed in server. " +
                        "The passed state wasn't returned from auth server."
                });
            }
            if (qp.code) {
                delete oauth2.state;
                oauth2.auth.code = qp.code;
                oauth2.callback({auth: oauth2.auth, redirectUrl: redirectUrl});
            } else {
                var message = "[Authorization failed]: no accessCode received from the server.";
                if (qp.error) {
                    message = "[" + qp.error + "]: " +
                        (qp.error_description ? qp.error_description + ". " :
                            "no accessCode received from the server. ") +
                        (qp.error_uri ? "More info: " + qp.error_uri : "");
                }
                oauth2.errCb({
                    authId: oauth2.auth.name,
                    source: "auth",
                    level: "error",
                    message: message
                });
            }
        } else {
            oauth2.callback({auth: oauth2.auth, token: qp, isValid: isValid, redirectUrl: redirectUrl});
        }
        window.close();
    }

    if (document.readyState !== 'loading') {
        run();
    } else {
        document.addEventListener('DOMContentLoaded', run);
    }
"""

_OAUTH2_REDIRECT_PAGE = _document(
    ["<title>Swagger UI: OAuth2 Redirect</title>"],
    ["<script>", *_OAUTH2_REDIRECT_SCRIPT.splitlines(), "</script>"],
)


def get_swagger_ui_oauth2_redirect_html() -> HTMLResponse:
    """The page Swagger UI's OAuth2 flows redirect to (``swagger_ui_oauth2_redirect_url``)."""
    return HTMLResponse(content=_OAUTH2_REDIRECT_PAGE)


# --- bundled assets ---------------------------------------------------------------------------

# The files served under the docs' static path: URL name -> (file under _assets/, media type).
_BUNDLED: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui/swagger-ui.css", "text/css; charset=utf-8"),
    "redoc.standalone.js": ("redoc/redoc.standalone.js", "text/javascript; charset=utf-8"),
    "favicon.png": ("swagger-ui/favicon-32x32.png", "image/png"),
}
# The URLs carry a hash of the content, so a cached copy can be kept for a year.
_CACHE_CONTROL = "public, max-age=31536000, immutable"


class _Asset:
    __slots__ = ("body", "media_type", "etag")

    def __init__(self, body: bytes, media_type: str) -> None:
        self.body = body
        self.media_type = media_type
        self.etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@cache
def _asset(name: str) -> _Asset:
    path, media_type = _BUNDLED[name]
    body = resources.files(__package__).joinpath("_assets", *path.split("/")).read_bytes()
    return _Asset(body, media_type)


def _asset_url(static_url: str, name: str) -> str:
    return f"{static_url.rstrip('/')}/{name}?v={_asset(name).etag[1:13]}"


def bundled_swagger_ui_urls(static_url: str) -> dict[str, str]:
    """``get_swagger_ui_html`` keyword arguments loading Swagger UI from ``static_url``."""
    return {
        "swagger_js_url": _asset_url(static_url, "swagger-ui-bundle.js"),
        "swagger_css_url": _asset_url(static_url, "swagger-ui.css"),
        "swagger_favicon_url": _asset_url(static_url, "favicon.png"),
    }


def bundled_redoc_urls(static_url: str) -> dict[str, Any]:
    """``get_redoc_html`` keyword arguments loading ReDoc from ``static_url`` (no web fonts)."""
    return {
        "redoc_js_url": _asset_url(static_url, "redoc.standalone.js"),
        "redoc_favicon_url": _asset_url(static_url, "favicon.png"),
        "with_google_fonts": False,
    }


def bundled_asset_response(request: Request) -> Response:
    """Serve the bundled file named by the ``file_name`` path parameter (404 for others)."""
    name = request.path_params.get("file_name", "")
    if name not in _BUNDLED:
        return Response("Not Found", status_code=404, media_type="text/plain")
    asset = _asset(name)
    headers = {"cache-control": _CACHE_CONTROL, "etag": asset.etag}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
