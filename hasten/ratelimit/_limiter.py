"""``Limiter``: a policy, a key function and a backend; ``RateLimit``: it as a dependency."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Literal, NamedTuple, TypedDict

from starlette.requests import HTTPConnection
from typing_extensions import Unpack

from .. import params
from ..exceptions import HTTPException, WebSocketException
from ..responses import Response
from ._keys import KeyFunc, by_client, by_user
from ._memory import MemoryBackend, _Store
from ._policies import Policy, reset_seconds, retry_seconds
from ._redis import BackendUnavailable, RedisBackend

Backend = MemoryBackend | RedisBackend
OnError = Literal["allow", "deny"]


class LimiterOptions(TypedDict, total=False):
    """`Limiter`'s keyword arguments (their defaults and meaning are `Limiter`'s), taken as
    they are by `RateLimit` and `RateLimitMiddleware`."""

    key: KeyFunc | by_user | None
    backend: Backend | None
    name: str
    on_backend_error: OnError
    headers: bool
    detail: str | None
    cost: int


class Decision(NamedTuple):
    """The answer to one check."""

    allowed: bool
    remaining: int
    """Requests (tokens) left in the quota after this one."""
    seconds: float
    """Allowed: seconds until the quota is whole again. Refused: seconds until a retry can
    succeed."""
    available: bool = True
    """``False``: the backend did not answer and ``on_backend_error`` decided."""


class Limiter:
    """One rate limit: ``policy`` per key (``key(request)``), counted in ``backend``.

    ``name`` names the policy in the ``RateLimit``/``RateLimit-Policy`` headers and in the
    backend's keys (limiters sharing a backend need different names). ``on_backend_error``:
    what a check answers when the backend does not (``"allow"``: fail open; ``"deny"``: 503).
    ``headers``: send ``RateLimit`` and ``RateLimit-Policy`` on allowed responses too (by
    default only refusals carry them, with ``Retry-After``).
    ``detail``: the 429's ``detail``. ``cost``: what one request takes from the quota.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        key: KeyFunc | by_user | None = None,
        backend: Backend | None = None,
        name: str = "default",
        on_backend_error: OnError = "allow",
        headers: bool = False,
        detail: str | None = None,
        cost: int = 1,
    ) -> None:
        if on_backend_error not in ("allow", "deny"):
            raise ValueError('on_backend_error must be "allow" or "deny"')
        if not name or '"' in name or "\\" in name:
            raise ValueError("a limiter's name must be non-empty, without quotes or backslashes")
        self.policy = policy
        self.key: Any = key if key is not None else by_client()
        self.backend: Backend = backend if backend is not None else MemoryBackend()
        self.name = name
        self.on_backend_error = on_backend_error
        self.send_headers = headers
        self.detail = detail or f"Rate limit exceeded: {policy.describe()}"
        self.cost = cost
        self._store = self.backend.store(policy, name)
        self._sync = isinstance(self._store, _Store)
        self._quoted = f'"{name}"'
        self.policy_header = f"{self._quoted};q={policy.quota};w={reset_seconds(policy.period)}"
        """The ``RateLimit-Policy`` value (draft-ietf-httpapi-ratelimit-headers-09)."""
        self.dependency = self._make_dependency()
        """A dependency that enforces the limit (what ``RateLimit(...)`` wraps in ``Depends``)."""

    async def hit(self, key: str, cost: int | None = None) -> Decision:
        """Count one request of ``key``; the backend's answer (or the error policy's)."""
        cost = self.cost if cost is None else cost
        if self._sync:
            return Decision(*self._store.hit(key, cost))  # type: ignore[misc]
        try:
            allowed, remaining, seconds = await self._store.hit(key, cost)  # type: ignore[misc]
        except BackendUnavailable:
            wait = getattr(self.backend, "retry_interval", 1.0)
            return Decision(self.on_backend_error == "allow", 0, wait, False)
        return Decision(allowed, remaining, seconds)

    async def key_for(self, connection: HTTPConnection) -> str | None:
        """The key of a request (``None``: not limited)."""
        key = self.key.fallback if isinstance(self.key, by_user) else self.key
        if key is None:
            return None
        found = key(connection)
        if inspect.isawaitable(found):
            found = await found
        return found  # type: ignore[no-any-return]

    def headers(self, decision: Decision) -> dict[str, str]:
        """``RateLimit`` and ``RateLimit-Policy`` for a decision (none if the backend was
        unavailable), and ``Retry-After`` for a refusal."""
        out: dict[str, str] = {}
        if not decision.allowed:
            out["Retry-After"] = str(retry_seconds(decision.seconds))
        if decision.available:
            reset = (
                reset_seconds(decision.seconds)
                if decision.allowed
                else retry_seconds(decision.seconds)
            )
            out["RateLimit"] = f"{self._quoted};r={decision.remaining};t={reset}"
            out["RateLimit-Policy"] = self.policy_header
        return out

    def refusal(self, decision: Decision, detail: str | None = None) -> HTTPException:
        """The ``HTTPException`` for a refused decision: 429, or 503 when the backend was
        unavailable and the policy is to deny."""
        if not decision.available:
            return HTTPException(503, "Rate limiting is unavailable", self.headers(decision))
        return HTTPException(429, detail or self.detail, self.headers(decision))

    async def enforce(
        self,
        connection: HTTPConnection,
        response: Response | None = None,
        *,
        key: str | None = None,
        detail: str | None = None,
        cost: int | None = None,
    ) -> Decision | None:
        """Check a request: raise the refusal, or set the headers on ``response``.

        ``key`` overrides the key function (a username, say). ``None`` when the key function
        leaves the request unlimited. A refused WebSocket connection is closed with 1013
        ("try again later") instead.
        """
        if key is None:
            key = await self.key_for(connection)
            if key is None:
                return None
        decision = await self.hit(key, cost)
        if not decision.allowed:
            if connection.scope["type"] == "websocket":  # closed before it is accepted
                raise WebSocketException(1013, detail or self.detail)  # "try again later"
            raise self.refusal(decision, detail)
        if response is not None and self.send_headers and decision.available:
            response.headers.update(self.headers(decision))
        return decision

    def _make_dependency(self) -> Any:
        limiter = self
        user_key = self.key if isinstance(self.key, by_user) else None
        parameters = [
            inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=HTTPConnection),
            inspect.Parameter("response", inspect.Parameter.KEYWORD_ONLY, annotation=Response),
        ]
        rate_limit: Any
        if user_key is None:

            async def rate_limit_client(request: Any, response: Any) -> None:
                await limiter.enforce(request, response)

            rate_limit = rate_limit_client
        else:
            depends = params.Depends(user_key.dependency)
            parameters.append(
                inspect.Parameter(
                    "user", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, depends]
                )
            )

            async def rate_limit_user(request: Any, response: Any, user: Any = None) -> None:
                key = user_key.key_of(user) if user is not None else None
                await limiter.enforce(request, response, key=key)

            rate_limit = rate_limit_user

        rate_limit.__signature__ = inspect.Signature(parameters, return_annotation=None)
        rate_limit.__annotations__ = {p.name: p.annotation for p in parameters}
        rate_limit.__qualname__ = rate_limit.__name__ = f"rate_limit_{self.name}"
        return rate_limit


def RateLimit(policy: Policy, **options: Unpack[LimiterOptions]) -> Any:
    """A rate limit as a dependency, for ``dependencies=[...]`` of a route, router or app.

    ``RateLimit(SlidingWindow(100, 60))`` is ``Depends(Limiter(...).dependency)``: a refused
    request raises ``HTTPException(429)`` (the app's handlers render it) with ``Retry-After``,
    ``RateLimit`` and ``RateLimit-Policy``; with ``headers=True`` an allowed one gets
    ``RateLimit`` and ``RateLimit-Policy`` too (unless the endpoint returns its own
    ``Response``).
    """
    return params.Depends(Limiter(policy, **options).dependency)
