"""Passwords (argon2 via pwdlib), JWT access tokens (PyJWT) and the auth dependencies.

The chain ``get_db → get_current_user → require_admin`` guards admin-only endpoints;
``RoleChecker`` is the reusable class form for any set of roles.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
import jwt
from anyio import CapacityLimiter
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.ext.asyncio import AsyncSession

from hasten import Depends, HTTPException, Request, status
from hasten.security import OAuth2PasswordBearer

from .db import get_db
from .models import User
from .schemas import INT32_MAX
from .settings import Settings

ALGORITHM = "HS256"
"""The only algorithm accepted: tokens signed otherwise (or ``none``) are rejected."""
ROLES = ("customer", "staff", "admin")

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")


def make_password_hash(settings: Settings) -> PasswordHash:
    """An argon2 hasher with the configured cost."""
    return PasswordHash(
        (
            Argon2Hasher(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_cost,
            ),
        )
    )


class Passwords:
    """Argon2 hashing off the event loop, at most ``concurrency`` computations at once.

    Each computation takes ``argon2_memory_cost`` KiB, so the bound is also a memory bound:
    requests beyond it wait for a slot (holding no argon2 memory) instead of each taking its
    own. ``verify_unknown`` does the work of a real check for a user that does not exist, so
    the time to answer does not tell which usernames are taken.
    """

    def __init__(self, hasher: PasswordHash, concurrency: int) -> None:
        self.hasher = hasher
        self.concurrency = concurrency
        self._slots: CapacityLimiter | None = None
        self._dummy_hash: str | None = None

    @property
    def slots(self) -> CapacityLimiter:
        """The worker-thread tokens argon2 runs under (made in the event loop, on first use)."""
        if self._slots is None:
            self._slots = CapacityLimiter(self.concurrency)
        return self._slots

    async def start(self) -> None:
        """At startup: fresh slots for this event loop, and the dummy hash computed."""
        self._slots = None
        await self._dummy()

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def hash(self, password: str) -> str:
        """Hash ``password`` in a worker thread."""
        return await anyio.to_thread.run_sync(self.hasher.hash, password, limiter=self.slots)

    async def verify(self, password: str, password_hash: str) -> bool:
        """Check ``password`` against a stored hash, in a worker thread."""
        return await anyio.to_thread.run_sync(
            self.hasher.verify, password, password_hash, limiter=self.slots
        )

    async def verify_unknown(self, password: str) -> bool:
        """The same work as ``verify`` for a user that does not exist; always ``False``."""
        await self.verify(password, await self._dummy())
        return False


def _jwt_key(settings: Settings) -> str:
    if not settings.jwt_secret:  # resolved at startup (examples/shop/credentials.py)
        raise RuntimeError("the JWT secret is not resolved yet: is the app started?")
    return settings.jwt_secret


def create_access_token(settings: Settings, user: User, *, now: datetime | None = None) -> str:
    """A signed JWT for ``user``: subject, account stamp, role, issuer, audience, issued-at and
    expiry."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "role": user.role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + timedelta(minutes=settings.jwt_expire_minutes),
    }
    stamp = account_stamp(user)
    if stamp is not None:
        claims[ACCOUNT_CLAIM] = stamp
    return jwt.encode(claims, _jwt_key(settings), algorithm=ALGORITHM)


def _unauthorized(detail: str = "Could not validate credentials") -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


# A token names its user by id, and an id can come back: SQLite gives a deleted last row's id to
# the next insert. The account claim (the account's creation time, in microseconds) is what a
# later account with the same id cannot share. Tokens without it (only ones signed before the
# claim existed) are checked by id alone.
ACCOUNT_CLAIM = "acc"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def account_stamp(user: Any) -> int | None:
    """The account's creation time in microseconds since the epoch (``None`` if unknown)."""
    created = getattr(user, "created_at", None)
    if not isinstance(created, datetime):
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return (created - _EPOCH) // timedelta(microseconds=1)


def decode_token(settings: Settings, token: str) -> int:
    """The user id in a valid token; raises 401 for a bad signature, expiry, audience, issuer."""
    return _decode(settings, token)[0]


def _decode(settings: Settings, token: str) -> tuple[int, Any]:
    """The user id and account stamp in a valid token (401 otherwise)."""
    try:
        claims = jwt.decode(
            token,
            _jwt_key(settings),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        user_id = int(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise _unauthorized("Token has expired") from None
    except (jwt.InvalidTokenError, ValueError):
        raise _unauthorized() from None
    if not 1 <= user_id <= INT32_MAX:  # no such id: never hand it to the database
        raise _unauthorized()
    return user_id, claims.get(ACCOUNT_CLAIM)


def _same_account(user: User | None, stamp: Any) -> User:
    """``user`` if it exists and is the account the token was issued for (401 otherwise)."""
    if user is None or (stamp is not None and stamp != account_stamp(user)):
        raise _unauthorized()
    return user


def get_settings(request: Request) -> Settings:
    """The application's settings (kept on ``app.state``)."""
    settings: Settings = request.app.state.settings
    return settings


def get_passwords(request: Request) -> Passwords:
    """The application's password hashing (bounded, off the event loop)."""
    passwords: Passwords = request.app.state.passwords
    return passwords


async def get_current_user(
    token: Annotated[str, Depends(oauth2_scheme)],
    db: Annotated[AsyncSession, Depends(get_db)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> User:
    """The user named by the bearer token (401 when missing, invalid or the user is gone)."""
    user_id, stamp = _decode(settings, token)
    return _same_account(await db.get(User, user_id), stamp)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def require_admin(user: CurrentUser) -> User:
    """The current user, if an admin (403 otherwise)."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Admin privileges required")
    return user


class RoleChecker:
    """A reusable class dependency: ``Depends(RoleChecker(["admin", "staff"]))``."""

    def __init__(self, allowed_roles: list[str]) -> None:
        self.allowed_roles = list(allowed_roles)

    def __call__(self, user: CurrentUser) -> User:
        if user.role not in self.allowed_roles:
            allowed = ", ".join(self.allowed_roles)
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"This action requires one of the roles: {allowed}",
            )
        return user


@dataclass(frozen=True)
class Principal:
    """Who is connected, detached from any database session (for long-lived streams)."""

    id: int
    username: str
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "admin")


async def load_principal(app_state: Any, token: str) -> Principal:
    """Resolve a token with a short session of its own (closed before returning)."""
    user_id, stamp = _decode(app_state.settings, token)
    async with app_state.sessionmaker() as session:
        user = _same_account(await session.get(User, user_id), stamp)
        return Principal(user.id, user.username, user.role)


async def get_principal(
    request: Request, token: Annotated[str, Depends(oauth2_scheme)]
) -> Principal:
    """Like ``get_current_user`` but holds no session open (used by the SSE stream)."""
    return await load_principal(request.app.state, token)
