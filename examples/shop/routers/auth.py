"""``/auth``: the OAuth2 password flow issuing signed JWT access tokens."""

from __future__ import annotations

from typing import Annotated

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hasten import APIRouter, Depends, HTTPException, status
from hasten.security import OAuth2PasswordRequestForm

from ..db import get_read_db
from ..models import User
from ..ratelimit import rate_limit
from ..schemas import Token
from ..security import create_access_token, get_password_hash, get_settings, verify_password
from ..settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(rate_limit)])


@router.post(
    "/token",
    response_model=Token,
    responses={401: {"description": "Wrong username or password"}},
    summary="Log in (OAuth2 password flow)",
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: Annotated[AsyncSession, Depends(get_read_db)],
    settings: Annotated[Settings, Depends(get_settings)],
    hasher: Annotated[PasswordHash, Depends(get_password_hash)],
) -> Token:
    """Exchange a username (or e-mail) and password for a bearer token."""
    user = await db.scalar(
        select(User).where((User.username == form.username) | (User.email == form.username))
    )
    if user is None or not await verify_password(hasher, form.password, user.password_hash):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(
        access_token=create_access_token(settings, user),
        expires_in=settings.jwt_expire_minutes * 60,
    )
