"""Docs served from the package (``docs_assets="bundled"``) and the switch to the CDN."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from typing import Any

import pytest

from hasten import FastAPI, Hasten
from hasten.exceptions import HastenError
from hasten.openapi.docs import get_redoc_html, get_swagger_ui_html
from hasten.testclient import TestClient

ASSETS = resources.files("hasten.openapi") / "_assets"
EXTERNAL_URL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
LINKED = re.compile(r'(?:src|href)="([^"]+)"')
CDN = "https://cdn.jsdelivr.net/npm/"


def _app(cls: type[Hasten] = Hasten, **options: Any) -> Hasten:
    app = cls(title="Shop", **options)

    @app.get("/items/{item_id}")
    def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return app


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(ASSETS.joinpath("VERSIONS.json").read_text())
    return manifest


# --- the vendored files ----------------------------------------------------------------------


def test_vendored_files_match_the_manifest() -> None:
    packages = _manifest()["packages"]
    assert set(packages) == {"swagger-ui-dist", "redoc"}
    assert packages["swagger-ui-dist"]["version"].startswith("5.")  # the CDN default's major
    assert packages["redoc"]["version"].startswith("2.")
    for entry in packages.values():
        assert entry["integrity"].startswith("sha512-")
        assert entry["license_files"], "license files are kept"
        for rel in entry["license_files"]:
            assert rel in entry["files"]
        for rel, digest in entry["files"].items():
            data = ASSETS.joinpath(*rel.split("/")).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, rel


def test_the_redoc_bundle_is_patched_not_to_load_its_logo() -> None:
    redoc = _manifest()["packages"]["redoc"]
    assert set(redoc["patched"]) == {"redoc/redoc.standalone.js"}
    assert b"cdn.redoc.ly" not in ASSETS.joinpath("redoc", "redoc.standalone.js").read_bytes()


# --- pages that reference no external URL ----------------------------------------------------


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_bundled_pages_reference_no_external_url(page: str) -> None:
    html = TestClient(_app()).get(page).text
    assert EXTERNAL_URL.findall(html) == []
    links = LINKED.findall(html)
    assert links and all(link.startswith("/docs/static/") for link in links)


def test_every_linked_asset_is_served_with_its_type_and_cache_headers() -> None:
    client = TestClient(_app())
    html = client.get("/docs").text + client.get("/redoc").text
    served = {}
    for link in set(LINKED.findall(html)):
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["etag"].startswith('"')
        version = link.split("?v=")[1]
        assert response.headers["etag"][1:13] == version  # the URL changes with the content
        served[link.split("?")[0].rsplit("/", 1)[1]] = response
    assert sorted(served) == [
        "favicon.png",
        "redoc.standalone.js",
        "swagger-ui-bundle.js",
        "swagger-ui.css",
    ]
    expected_types = {
        "favicon.png": "image/png",
        "redoc.standalone.js": "text/javascript; charset=utf-8",
        "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
        "swagger-ui.css": "text/css; charset=utf-8",
    }
    for name, response in served.items():
        assert response.headers["content-type"] == expected_types[name]
    assert served["favicon.png"].content.startswith(b"\x89PNG")
    assert b"SwaggerUIBundle" in served["swagger-ui-bundle.js"].content
    assert (
        served["swagger-ui-bundle.js"].content
        == ASSETS.joinpath("swagger-ui", "swagger-ui-bundle.js").read_bytes()
    )


def test_revalidation_answers_304_and_unknown_names_404() -> None:
    client = TestClient(_app())
    first = client.get("/docs/static/swagger-ui.css")
    again = client.get(
        "/docs/static/swagger-ui.css", headers={"if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert client.get("/docs/static/swagger-ui.css", headers={"if-none-match": '"x"'}).content
    for name in ("LICENSE", "VERSIONS.json", "..%2FVERSIONS.json", "swagger-ui.js"):
        assert client.get(f"/docs/static/{name}").status_code == 404, name
    assert client.get("/docs/static/redoc/LICENSE").status_code == 404


def test_static_route_is_not_in_the_document() -> None:
    paths = TestClient(_app()).get("/openapi.json").json()["paths"]
    assert list(paths) == ["/items/{item_id}"]


def test_bundled_urls_follow_root_path_and_settings() -> None:
    app = _app(
        swagger_ui_parameters={"deepLinking": False},
        swagger_ui_init_oauth={"clientId": "shop"},
    )
    client = TestClient(app, root_path="/api")
    html = client.get("/docs").text
    assert '<link type="text/css" rel="stylesheet" href="/api/docs/static/swagger-ui.css?v=' in html
    assert '<script src="/api/docs/static/swagger-ui-bundle.js?v=' in html
    assert "url: '/api/openapi.json'," in html
    assert '"deepLinking": false,' in html
    assert '"clientId": "shop"' in html
    assert "oauth2RedirectUrl: window.location.origin + '/api/docs/oauth2-redirect'" in html
    assert client.get("/docs/oauth2-redirect").status_code == 200
    redoc = client.get("/redoc").text
    assert '<redoc spec-url="/api/openapi.json"></redoc>' in redoc
    assert '<script src="/api/docs/static/redoc.standalone.js?v=' in redoc
    assert "fonts.googleapis.com" not in redoc


def test_without_swagger_the_files_live_under_redoc() -> None:
    client = TestClient(_app(docs_url=None, redoc_url="/reference/"))
    html = client.get("/reference/").text
    assert '<script src="/reference/static/redoc.standalone.js?v=' in html
    assert client.get("/reference/static/redoc.standalone.js").status_code == 200
    assert client.get("/docs").status_code == 404


def test_no_docs_pages_no_static_route() -> None:
    for app in (_app(docs_url=None, redoc_url=None), _app(openapi_url=None)):
        assert not any("static" in getattr(r, "path", "") for r in app.routes)


# --- the switch --------------------------------------------------------------------------------


def test_defaults_bundled_for_hasten_cdn_for_fastapi() -> None:
    assert Hasten().docs_assets == "bundled"
    assert FastAPI().docs_assets == "cdn"


def test_fastapi_pages_are_the_cdn_pages_unchanged() -> None:
    client = TestClient(_app(FastAPI, swagger_ui_init_oauth={"appName": "S"}))
    expected = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Shop - Swagger UI",
        oauth2_redirect_url="/docs/oauth2-redirect",
        init_oauth={"appName": "S"},
    )
    assert client.get("/docs").content == expected.body
    redoc = get_redoc_html(openapi_url="/openapi.json", title="Shop - ReDoc")
    assert client.get("/redoc").content == redoc.body
    assert f"{CDN}swagger-ui-dist@5/swagger-ui-bundle.js" in client.get("/docs").text
    assert client.get("/docs/static/swagger-ui.css").status_code == 404


def test_hasten_can_use_the_cdn() -> None:
    client = TestClient(_app(docs_assets="cdn"))
    assert f"{CDN}swagger-ui-dist@5/swagger-ui.css" in client.get("/docs").text
    assert "cdn.jsdelivr.net" in EXTERNAL_URL.findall(client.get("/docs").text)[0]
    assert f"{CDN}redoc@2/bundles/redoc.standalone.js" in client.get("/redoc").text
    assert client.get("/docs/static/swagger-ui.css").status_code == 404


def test_fastapi_can_bundle() -> None:
    client = TestClient(_app(FastAPI, docs_assets="bundled"))
    html = client.get("/docs").text
    assert EXTERNAL_URL.findall(html) == []
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_unknown_docs_assets_value() -> None:
    with pytest.raises(HastenError, match="docs_assets must be 'bundled' or 'cdn', not 'local'"):
        Hasten(docs_assets="local")  # type: ignore[arg-type]
