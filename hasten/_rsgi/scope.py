"""An RSGI scope (Granian's scope object) as the ASGI scope dict the app's stack reads.

What RSGI gives and ASGI wants differs in a few places, each handled here once:

* ``server`` and ``client`` are ``"host:port"`` strings (``"[::1]:port"`` for IPv6); ASGI wants
  ``(host, port)``. Parsed strings are kept in a small cache: a keep-alive connection sends
  the same client string with every request. For HTTP, the part of the scope a connection
  fixes (client, server, scheme, HTTP version) is kept per client address (``CONNECTIONS``,
  bounded) and copied, once the other three are seen to be equal.
* headers are ``str`` pairs with lower-case names; ASGI wants ``bytes`` pairs. Granian 2.8
  passes only header values it can read as text (a value with bytes beyond ASCII does not
  arrive at all), so they are encoded back as UTF-8, which cannot fail. (Granian's strings are
  new with each request: a table of converted pairs would hash them afresh, which costs as
  much as encoding them; measured with bench/rsgi_cost.py.)
* ``query_string`` is text decoded from UTF-8: it is encoded back the same way.
* ``path`` is already percent-decoded (as ASGI's ``path`` is; invalid UTF-8 arrives as U+FFFD);
  the undecoded target is not available, so ``raw_path`` is left out (the ASGI spec makes it
  optional).
* ``root_path`` (``hasten run --root-path``) is prefixed to ``path``, as uvicorn does.
* HTTP/2 carries the host in ``authority`` instead of a ``host`` header: it is added as one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CONNECTIONS", "CONNECTIONS_MAX", "http_scope", "parse_address", "websocket_scope"]

_ASGI_HTTP = {"version": "3.0", "spec_version": "2.3"}
_ASGI_WEBSOCKET = {"version": "3.0", "spec_version": "2.3"}
_ADDRESSES: dict[str, tuple[str, int] | None] = {}
_ADDRESSES_MAX = 4096


def parse_address(value: str | None) -> tuple[str, int] | None:
    """``"127.0.0.1:8000"`` → ``("127.0.0.1", 8000)``; ``"[::1]:80"`` → ``("::1", 80)``."""
    if value is None:
        return None
    known = _ADDRESSES.get(value, False)
    if known is not False:
        return known  # type: ignore[return-value]
    host, colon, port = value.rpartition(":")
    address: tuple[str, int] | None
    if colon and port.isdigit():
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        address = (host, int(port))
    else:
        address = (value, 0) if value else None
    if len(_ADDRESSES) >= _ADDRESSES_MAX:
        _ADDRESSES.clear()
    _ADDRESSES[value] = address
    return address


def _headers(rsgi: Any, fields: Any) -> list[tuple[bytes, bytes]]:
    headers = []  # a loop: a comprehension makes a function object each time
    for name, value in fields.items():
        headers.append((name.encode(), value.encode()))
    authority = rsgi.authority
    if authority is not None and "host" not in fields:
        headers.insert(0, (b"host", authority.encode()))
    return headers


# Every key of an HTTP scope, in the order uvicorn has them: what a connection's part starts from.
_HTTP_SCOPE: dict[str, Any] = {
    "type": "http", "asgi": _ASGI_HTTP, "http_version": "1.1", "method": "GET",
    "scheme": "http", "path": "/", "query_string": b"", "root_path": "", "headers": [],
    "client": None, "server": None, "state": None, "extensions": None,
}  # fmt: skip

_Connection = tuple[str | None, str, str, dict[str, Any]]
CONNECTIONS: dict[str | None, _Connection] = {}
"""Client address → (server address, scheme, HTTP version, the scope's part they make): a
keep-alive connection's requests share it. Used only when all four are equal; at
``CONNECTIONS_MAX`` entries the table starts afresh."""
CONNECTIONS_MAX = 1024


def _connection(client: str | None, server: str | None, scheme: str, version: str) -> _Connection:
    part = _HTTP_SCOPE.copy()
    part["http_version"] = version
    part["scheme"] = scheme
    part["client"] = parse_address(client)
    part["server"] = parse_address(server)
    known = (server, scheme, version, part)
    if len(CONNECTIONS) >= CONNECTIONS_MAX:
        CONNECTIONS.clear()
    CONNECTIONS[client] = known
    return known


def http_scope(rsgi: Any, fields: Any, state: dict[str, Any], root_path: str) -> dict[str, Any]:
    """The ASGI ``http`` scope of the RSGI HTTP scope ``rsgi`` (``fields``: its headers)."""
    client, server = rsgi.client, rsgi.server
    scheme, version = rsgi.scheme, rsgi.http_version
    known = CONNECTIONS.get(client)
    if known is None or known[0] != server or known[1] != scheme or known[2] != version:
        known = _connection(client, server, scheme, version)
    scope = known[3].copy()
    scope["method"] = rsgi.method
    scope["path"] = root_path + rsgi.path if root_path else rsgi.path
    query = rsgi.query_string
    if query:
        scope["query_string"] = query.encode()
    if root_path:
        scope["root_path"] = root_path
    headers = []  # _headers, inlined
    for name, value in fields.items():
        headers.append((name.encode(), value.encode()))
    authority = rsgi.authority
    if authority is not None and "host" not in fields:
        headers.insert(0, (b"host", authority.encode()))
    scope["headers"] = headers
    scope["state"] = state.copy()
    scope["extensions"] = {"http.response.pathsend": {}}
    return scope


def websocket_scope(rsgi: Any, state: dict[str, Any], root_path: str) -> dict[str, Any]:
    """The ASGI ``websocket`` scope of the RSGI WebSocket scope ``rsgi``."""
    offered = rsgi.headers.get("sec-websocket-protocol")
    subprotocols = [part.strip() for part in offered.split(",")] if offered else []
    return {
        "type": "websocket",
        "asgi": _ASGI_WEBSOCKET,
        "http_version": rsgi.http_version,
        "scheme": "wss" if rsgi.scheme in ("https", "wss") else "ws",
        "path": root_path + rsgi.path if root_path else rsgi.path,
        "query_string": rsgi.query_string.encode(),
        "root_path": root_path,
        "headers": _headers(rsgi, rsgi.headers),
        "client": parse_address(rsgi.client),
        "server": parse_address(rsgi.server),
        "subprotocols": subprotocols,
        "state": state.copy(),
        "extensions": {},
    }
