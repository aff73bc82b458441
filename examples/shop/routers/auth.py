"""``/auth``: the OAuth2 password flow issuing signed JWT access tokens."""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hasten import APIRouter, Depends, HTTPException, Request, status
from hasten.security import OAuth2PasswordRequestForm

from ..db import get_read_db
from ..models import User
from ..ratelimit import LoginLimiters, rate_limit
from ..schemas import JSON_MAX_BYTES, Token, documented
from ..security import Passwords, create_access_token, get_passwords, get_settings
from ..settings import Settings

router = APIRouter(
    prefix="/auth", tags=["auth"], dependencies=[Depends(rate_limit)], responses=documented(429)
)


@router.post(
    "/token",
    response_model=Token,
    responses={
        **documented(400, 413),
        401: {"description": "Wrong username or password"},
        429: {"description": "Too many attempts (per client, per username): see Retry-After"},
    },
    summary="Log in (OAuth2 password flow)",
    max_body_size=JSON_MAX_BYTES,
)
async def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: Annotated[AsyncSession, Depends(get_read_db)],
    settings: Annotated[Settings, Depends(get_settings)],
    passwords: Annotated[Passwords, Depends(get_passwords)],
) -> Token:
    """Exchange a username (or e-mail) and password for a bearer token.

    A username that does not exist costs the same hash work as a wrong password, so the
    answer's timing does not tell which usernames exist."""
    limiters: LoginLimiters = request.app.state.login_limiters
    await limiters.check(request, form.username)
    user = await db.scalar(
        select(User).where((User.username == form.username) | (User.email == form.username))
    )
    if user is None:
        valid = await passwords.verify_unknown(form.password)
    else:
        valid = await passwords.verify(form.password, user.password_hash)
    if user is None or not valid:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(
        access_token=create_access_token(settings, user),
        expires_in=settings.jwt_expire_minutes * 60,
    )
