"""Passwords (argon2 via pwdlib), JWT access tokens (PyJWT) and the auth dependencies.

The chain ``get_db → get_current_user → require_admin`` guards admin-only endpoints;
``RoleChecker`` is the reusable class form for any set of roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.ext.asyncio import AsyncSession

from hasten import Depends, HTTPException, Request, status
from hasten.security import OAuth2PasswordBearer

from .db import get_db
from .models import User
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


async def hash_password(hasher: PasswordHash, password: str) -> str:
    """Hash in a worker thread: argon2 is deliberately slow and must not block the loop."""
    return await anyio.to_thread.run_sync(hasher.hash, password)


async def verify_password(hasher: PasswordHash, password: str, password_hash: str) -> bool:
    """Check ``password`` against a stored hash, in a worker thread."""
    return await anyio.to_thread.run_sync(hasher.verify, password, password_hash)


def create_access_token(settings: Settings, user: User, *, now: datetime | None = None) -> str:
    """A signed JWT for ``user``: subject, role, issuer, audience, issued-at and expiry."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "role": user.role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + timedelta(minutes=settings.jwt_expire_minutes),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def _unauthorized(detail: str = "Could not validate credentials") -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def decode_token(settings: Settings, token: str) -> int:
    """The user id in a valid token; raises 401 for a bad signature, expiry, audience, issuer."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        return int(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise _unauthorized("Token has expired") from None
    except (jwt.InvalidTokenError, ValueError):
        raise _unauthorized() from None


def get_settings(request: Request) -> Settings:
    """The application's settings (kept on ``app.state``)."""
    settings: Settings = request.app.state.settings
    return settings


def get_password_hash(request: Request) -> PasswordHash:
    """The application's password hasher."""
    hasher: PasswordHash = request.app.state.password_hash
    return hasher


async def get_current_user(
    token: Annotated[str, Depends(oauth2_scheme)],
    db: Annotated[AsyncSession, Depends(get_db)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> User:
    """The user named by the bearer token (401 when missing, invalid or the user is gone)."""
    user = await db.get(User, decode_token(settings, token))
    if user is None:
        raise _unauthorized()
    return user


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
    user_id = decode_token(app_state.settings, token)
    async with app_state.sessionmaker() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise _unauthorized()
        return Principal(user.id, user.username, user.role)


async def get_principal(
    request: Request, token: Annotated[str, Depends(oauth2_scheme)]
) -> Principal:
    """Like ``get_current_user`` but holds no session open (used by the SSE stream)."""
    return await load_principal(request.app.state, token)
