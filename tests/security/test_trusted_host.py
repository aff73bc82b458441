"""TrustedHostMiddleware refuses every Host it was not told to serve, before the app runs.

Proves, for ``Hasten`` and ``FastAPI`` with ``allowed_hosts=["shop.example", "*.api.example",
"127.0.0.1", "[::1]"]``: listed hosts (also with a port, in another case, IPv6 in brackets) reach
the endpoint; foreign hosts, look-alikes (suffix/prefix tricks, the bare wildcard's parent),
malformed, empty and missing Host headers answer 400 ``Invalid host header`` and the endpoint is
never called. Checked over raw ASGI scopes (headers exactly as sent) and through httpx.
"""

from __future__ import annotations

import pytest
from security_support import raw_request
from starlette.websockets import WebSocketDisconnect

from hasten import FastAPI, Hasten, WebSocket
from hasten.middleware.trustedhost import TrustedHostMiddleware
from hasten.testclient import TestClient

ALLOWED = ["shop.example", "*.api.example", "127.0.0.1", "[::1]"]

GOOD = [
    b"shop.example",
    b"shop.example:8000",
    b"SHOP.Example",
    b"v1.api.example",
    b"a.b.api.example:443",
    b"127.0.0.1",
    b"127.0.0.1:8000",
    b"[::1]",
    b"[::1]:8080",
]
BAD = [
    b"evil.example",
    b"evil.example:8000",
    b"shop.example.evil.example",
    b"evilshop.example",
    b"shop.example.",  # a trailing dot is another name to the matcher: refused, not guessed
    b"api.example",  # "*.api.example" covers subdomains only
    b"evilapi.example",
    b"127.0.0.2",
    b"127.0.0.1.evil.example",
    b"[::2]",
    b"[::1",
    b"::1",
    b"[::1]x",
    b"[not-an-address]",
    b"shop.example:80:80",
    b"shop.example:port",
    b"shop.example/evil",
    b"shop.example@evil.example",
    b"evil.example#shop.example",
    b"shop example",
    b"",
    b" ",
]


def _app(cls: type[Hasten]) -> tuple[Hasten, list[str]]:
    app = cls()
    calls: list[str] = []

    @app.get("/")
    def root() -> dict[str, str]:
        calls.append("called")
        return {"ok": "yes"}

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED)
    return app, calls


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_raw_hosts(cls: type[Hasten]) -> None:
    app, calls = _app(cls)
    for host in GOOD:
        response = raw_request(app, "/", headers=[(b"host", host)])
        assert response.status == 200, host
    assert len(calls) == len(GOOD)
    calls.clear()
    for host in BAD:
        response = raw_request(app, "/", headers=[(b"host", host)])
        assert (response.status, response.body) == (400, b"Invalid host header"), host
    missing = raw_request(app, "/", headers=[])
    assert (missing.status, missing.body) == (400, b"Invalid host header")
    # Two Host headers: the first decides; a foreign first one is refused.
    twice = raw_request(app, "/", headers=[(b"host", b"evil.example"), (b"host", b"shop.example")])
    assert twice.status == 400
    assert calls == []


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_httpx_hosts(cls: type[Hasten]) -> None:
    app, calls = _app(cls)
    with TestClient(app, base_url="http://shop.example") as client:
        assert client.get("/").status_code == 200
        assert client.get("http://shop.example:8000/").status_code == 200
        assert client.get("http://[::1]:8080/").status_code == 200
        for url in ("http://evil.example/", "http://evil.example:8000/", "http://[::2]/"):
            response = client.get(url)
            assert (response.status_code, response.text) == (400, "Invalid host header"), url
        # A Host header set by hand wins over the URL's.
        forged = client.get("/", headers={"Host": "evil.example"})
        assert forged.status_code == 400
    assert len(calls) == 3


def test_websocket_from_a_foreign_host_is_refused() -> None:
    app = Hasten()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:  # pragma: no cover - must not run
        raise AssertionError("the endpoint ran for a foreign host")

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED)

    with TestClient(app, base_url="http://evil.example") as client:
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws"):
                pass
