"""Key functions: which bucket a request counts in.

A key function takes the request (a ``Request``, or a ``WebSocket``'s ``HTTPConnection``) and
returns the key, or ``None`` to leave the request unlimited; it may be ``async``. The built-in
ones also read the raw ASGI scope directly (``from_scope``), which the middleware uses.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import Scope

KeyFunc = Callable[[HTTPConnection], "str | None | Awaitable[str | None]"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks as networks; ``ValueError`` names a malformed entry."""
    return tuple(ipaddress.ip_network(str(value).strip(), strict=False) for value in values)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def forwarded_client(peer: str, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client's address: the direct ``peer``, unless the peer is a trusted proxy.

    Behind trusted proxies it is the right-most ``X-Forwarded-For`` entry that is not itself a
    trusted proxy: entries to its left were written by the client and prove nothing. When
    every entry is a trusted proxy, the left-most one.
    """
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


class by_client:
    """Key by client address (the default).

    ``X-Forwarded-For`` is believed only when the direct peer is in ``trusted_proxies``
    (addresses or CIDR networks); then the key is the right-most entry that is not a trusted
    proxy. Without ``trusted_proxies`` the header is ignored: anyone can write it.
    """

    __slots__ = ("trusted_proxies",)

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self.trusted_proxies = parse_networks(trusted_proxies)

    def __call__(self, connection: HTTPConnection) -> str:
        return self.from_scope(connection.scope)

    def from_scope(self, scope: Scope) -> str:
        """The key read from the ASGI scope."""
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if not self.trusted_proxies:
            return peer
        forwarded = [
            value.decode("latin-1")
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
        ]
        return forwarded_client(peer, forwarded, self.trusted_proxies)


class by_header:
    """Key by a request header's value, such as an API key (``X-API-Key``).

    Requests without the header use ``fallback`` (another key function) or, when it is
    ``None``, are not limited by this limiter. The value itself is not stored: only a prefix
    of its SHA-256, so keys in Redis reveal no credentials.
    """

    __slots__ = ("_name", "fallback")

    def __init__(self, name: str = "x-api-key", *, fallback: Any = None) -> None:
        self._name = name.lower().encode("latin-1")
        self.fallback = fallback

    def __call__(self, connection: HTTPConnection) -> Any:
        key = self._hashed(connection.scope)
        if key is not None or self.fallback is None:
            return key
        return self.fallback(connection)

    @property
    def from_scope(self) -> Callable[[Scope], str | None] | None:
        """The key read from the ASGI scope (``None`` when the fallback needs the request)."""
        if self.fallback is None:
            return self._hashed
        fallback = getattr(self.fallback, "from_scope", None)
        if fallback is None:
            return None

        def key(scope: Scope) -> str | None:
            found = self._hashed(scope)
            return found if found is not None else fallback(scope)

        return key

    def _hashed(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == self._name and value:
                return "h:" + hashlib.sha256(value).hexdigest()[:32]
        return None


class by_user:
    """Key by the authenticated user, given by a dependency (such as ``get_current_user``).

    Only for ``RateLimit``/``Limiter.dependency`` (the middleware runs before dependencies):
    the dependency is solved as any other (and shared with the endpoint through the
    dependency cache); ``identify`` turns its value into the key (default: its ``id``
    attribute, else ``str()``). A ``None`` user falls back to ``fallback`` (client address by
    default).
    """

    __slots__ = ("dependency", "fallback", "identify")

    def __init__(
        self,
        dependency: Callable[..., Any],
        *,
        identify: Callable[[Any], str] | None = None,
        fallback: KeyFunc | None = None,
    ) -> None:
        self.dependency = dependency
        self.identify = identify
        self.fallback: KeyFunc | None = fallback if fallback is not None else by_client()

    def key_of(self, user: Any) -> str:
        """The key for the dependency's value."""
        if self.identify is not None:
            return "u:" + self.identify(user)
        return "u:" + str(getattr(user, "id", user))
