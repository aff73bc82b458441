"""``RateLimitMiddleware``: one limit for every HTTP request of the app (pure ASGI)."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send
from typing_extensions import Unpack

from .._observed import ObservedSend, Responder, new_observed
from ..exception_handlers import http_exception_handler
from ..exceptions import HTTPException
from ..requests import Request
from ._keys import by_client, by_user
from ._limiter import Decision, Limiter, LimiterOptions
from ._policies import Policy, reset_seconds

_RATELIMIT = b"ratelimit"
_POLICY = b"ratelimit-policy"
_EXTRA_CACHED = 4096


class RateLimitMiddleware:
    """Limits every HTTP request before routing: ``app.add_middleware(RateLimitMiddleware,
    policy=SlidingWindow(1000, 60))``, or ``limiter=Limiter(...)``.

    The arguments are ``Limiter``'s (``key`` must be a function of the request: dependencies,
    and so ``by_user``, are not solved yet), plus ``exclude``: paths that are never limited
    (health checks, say). A refusal is an ``HTTPException(429)`` rendered by the app's own
    handler for it (so a problem-details handler applies); WebSocket and lifespan scopes
    pass through.
    """

    #: Wraps the app's core stack from outside when every user middleware does (no layers of
    #: its own per request: ``Hasten.build_middleware_stack``).
    hasten_outside_core = True

    def __init__(
        self,
        app: ASGIApp,
        policy: Policy | None = None,
        *,
        limiter: Limiter | None = None,
        exclude: Collection[str] = (),
        **options: Unpack[LimiterOptions],
    ) -> None:
        if (policy is None) == (limiter is None):
            raise TypeError("RateLimitMiddleware takes a policy or a limiter (one of them)")
        if limiter is None:
            assert policy is not None
            limiter = Limiter(policy, **options)
        if isinstance(limiter.key, by_user):
            raise TypeError("by_user needs dependencies: use RateLimit(...) on routes instead")
        self.app = app
        self.limiter = limiter
        self.exclude = frozenset(exclude)
        self._scope_key: Any = getattr(limiter.key, "from_scope", None)
        # The default key (the direct peer's address) is read inline: no call per request.
        self._peer_key = type(limiter.key) is by_client and not limiter.key.trusted_proxies
        store = limiter._store
        self._sync_hit: Any = store.hit if limiter._sync else None
        self._cost = limiter.cost
        self._send_headers = limiter.send_headers
        self._prefix = f'"{limiter.name}";r='.encode()
        self._policy_pair = (_POLICY, limiter.policy_header.encode())
        self._extra: dict[tuple[int, int], tuple[tuple[bytes, bytes], ...]] = {}
        #: Every check is synchronous (the memory backend, a key read from the scope): the
        #: limiter can run as a step of the app's core stack (``hasten._observed``).
        self.steppable = self._sync_hit is not None and (
            self._peer_key or self._scope_key is not None
        )
        #: Whether ``enter`` needs an ``ObservedSend``: only to add the headers to allowed
        #: answers (``hasten._observed.Step``; a refusal is answered with ``send`` itself).
        self.observes = self._send_headers
        default = self._peer_key and not self.exclude and not self._send_headers
        if self.steppable and default and type(self).enter is RateLimitMiddleware.enter:
            self.enter = _peer_enter(self._sync_hit, self._cost, self._refusal)  # type: ignore[method-assign]

    #: Nothing to do after the answer (``hasten._observed.Step``).
    leave = None

    def enter(self, scope: Scope, observed: ObservedSend | None) -> Responder | None:
        """Count the request (``steppable`` limiters only): the refusal to answer with, or
        ``None`` with the ``RateLimit`` headers added to ``observed`` (``observes`` only)."""
        exclude = self.exclude
        if exclude and scope["path"] in exclude:
            return None
        if self._peer_key:
            client = scope.get("client")
            key = client[0] if client else "unknown"
        else:
            key = self._scope_key(scope)
            if key is None:
                return None
        allowed, remaining, seconds = self._sync_hit(key, self._cost)
        if not allowed:
            return self._refusal((allowed, remaining, seconds))
        if self._send_headers:
            # ``_headers_for`` and ``observed.add_headers``, written out: the calls would cost
            # this step about 1.3k instructions a request (a tenth of it).
            reset = int(seconds)  # whole seconds, rounded up (as reset_seconds)
            if seconds - reset > 1e-9:
                reset += 1
            extra = self._extra.get((remaining, reset))
            if extra is None:
                extra = self._extra_headers(remaining, reset)
            known = observed.headers  # type: ignore[union-attr]  # ``observes``: given
            observed.headers = extra if known is None else (*extra, *known)  # type: ignore[union-attr]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.steppable:
            observed = new_observed(send) if self.observes else None
            refusal = self.enter(scope, observed)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            await self.app(scope, receive, send if observed is None else observed)
            return
        if self.exclude and scope["path"] in self.exclude:
            await self.app(scope, receive, send)
            return
        scope_key = self._scope_key
        key = scope_key(scope) if scope_key is not None else await self._request_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        decision = await self.limiter.hit(key)
        if not decision.allowed:
            await self._refuse(scope, receive, send, decision=decision)
            return
        if not (self._send_headers and decision.available):
            await self.app(scope, receive, send)
            return
        observed = new_observed(send)
        observed.add_headers(self._headers_for(decision.remaining, decision.seconds))
        await self.app(scope, receive, observed)

    def _headers_for(self, remaining: int, seconds: float) -> tuple[tuple[bytes, bytes], ...]:
        """``RateLimit`` and ``RateLimit-Policy`` for an allowed request: ``remaining`` in the
        quota, which is whole again in ``seconds`` (rounded up to whole seconds)."""
        reset = reset_seconds(seconds)
        extra = self._extra.get((remaining, reset))
        return self._extra_headers(remaining, reset) if extra is None else extra

    def _extra_headers(self, remaining: int, reset: int) -> tuple[tuple[bytes, bytes], ...]:
        """``RateLimit`` and ``RateLimit-Policy`` for (remaining, reset), kept for the next
        answer with the same pair (at most ``_EXTRA_CACHED`` pairs)."""
        extra = ((_RATELIMIT, b"%s%d;t=%d" % (self._prefix, remaining, reset)), self._policy_pair)
        cache = self._extra
        if len(cache) >= _EXTRA_CACHED:
            cache.clear()
        cache[remaining, reset] = extra
        return extra

    def _refusal(self, outcome: tuple[bool, int, float]) -> Responder:
        """The responder of a refused check's ``(allowed, remaining, seconds)``."""
        return partial(self._refuse, decision=Decision(*outcome))

    async def _request_key(self, scope: Scope) -> str | None:
        return await self.limiter.key_for(Request(scope))

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, *, decision: Decision
    ) -> None:
        """Answer the refusal with the app's handler for it (FastAPI's by default)."""
        exc = self.limiter.refusal(decision)
        handler = _handler_for(scope.get("app"), exc)
        request = Request(scope, receive)
        if _is_async(handler):
            response = await handler(request, exc)
        else:
            response = await run_in_threadpool(handler, request, exc)
        await response(scope, receive, send)


def _peer_enter(hit: Any, cost: int, refusal: Any) -> Any:
    """``enter`` of the default configuration: keyed by the peer's address, nothing excluded,
    no headers on allowed answers. ``RateLimitMiddleware.enter``'s case in a closure, and the
    store not asked for the remaining quota of an allowed request, which nothing reads then."""

    def enter(scope: Scope, observed: ObservedSend | None) -> Responder | None:
        try:
            client = scope["client"]
        except KeyError:  # optional in ASGI
            client = None
        outcome = hit(client[0] if client else "unknown", cost, False)
        return None if outcome[0] else refusal(outcome)

    def enter_host(host: str) -> Responder | None:
        outcome = hit(host, cost, False)
        return None if outcome[0] else refusal(outcome)

    #: It reads nothing of the scope but ``client``: ``by_host(host)`` is the same step given
    #: the client's host (``"unknown"`` without one), which the RSGI direct answer calls
    #: (``hasten._rsgi.direct``).
    enter.client_only = True  # type: ignore[attr-defined]
    enter.by_host = enter_host  # type: ignore[attr-defined]
    return enter


def _handler_for(app: Any, exc: HTTPException) -> Any:
    handlers = getattr(app, "exception_handlers", None) or {}
    handler = handlers.get(exc.status_code)
    if handler is not None:
        return handler
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return handler
    return http_exception_handler


def _is_async(handler: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004
    )
