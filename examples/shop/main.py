"""The shop application: ``create_app(settings)`` builds it, ``app`` is the default instance.

Run it with ``./scripts/serve`` (docs at http://127.0.0.1:8000/docs), or
``uvicorn examples.shop.main:app``. Startup applies the migrations, opens the database engine
(and Redis when configured) and seeds the admin user; shutdown closes them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from sqlalchemy import select

from hasten import Hasten
from hasten.middleware.cors import CORSMiddleware
from hasten.ratelimit import parse_networks

from .credentials import (
    InsecureConfiguration,
    admin_password,
    announce_admin,
    check_settings,
    resolve_jwt_secret,
)
from .db import create_engine, create_sessionmaker, run_migrations
from .events import broadcast_url, live_updates
from .logs import redact_uvicorn_logs
from .models import User
from .ratelimit import make_limiters
from .routers import auth, ops, orders, products, tasks, users
from .schemas import MULTIPART_OVERHEAD
from .security import Passwords, make_password_hash
from .settings import Settings
from .tasks import make_email_sender, user_work_for

logger = logging.getLogger("examples.shop")

TAGS = [
    {"name": "products", "description": "The catalogue: browse, and manage (staff, admin)."},
    {"name": "users", "description": "Sign up, profile, avatar, e-mails, roles."},
    {"name": "auth", "description": "OAuth2 password flow: get a bearer token."},
    {"name": "orders", "description": "Place and cancel orders; live events and chat."},
    {"name": "tasks", "description": "Status of background work."},
    {"name": "ops", "description": "Health, readiness and metrics."},
]


async def seed_admin(app: Hasten) -> None:
    """Create the configured admin user unless it exists (safe to run on every start).

    Without ``SHOP_ADMIN_PASSWORD`` (local SQLite only) its password is generated once and
    kept beside the database file; it is printed when the user is created, its location on
    every start.
    """
    settings: Settings = app.state.settings
    password = admin_password(settings)
    if password is None or not settings.admin_username:
        return
    passwords: Passwords = app.state.passwords
    async with app.state.write_sessionmaker() as session:
        found = await session.scalar(select(User).where(User.username == settings.admin_username))
        if found is None:
            session.add(
                User(
                    username=settings.admin_username,
                    email=settings.admin_email,
                    password_hash=await passwords.hash(password.value),
                    role="admin",
                )
            )
            await session.commit()
            logger.info("created admin user %r", settings.admin_username)
    announce_admin(settings.admin_username, password, created=found is None)


@asynccontextmanager
async def lifespan(app: Hasten) -> AsyncIterator[None]:
    """Open the engine (migrated) and Redis; close both at shutdown."""
    settings = app.state.settings = resolve_jwt_secret(app.state.settings)
    redact_uvicorn_logs()
    engine = create_engine(settings)
    redis: Redis | None = None
    try:
        await run_migrations(engine)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.write_sessionmaker = create_sessionmaker(engine, writer=True)
        if settings.redis_url:
            redis = Redis.from_url(settings.redis_url)
            await redis.ping()
        app.state.redis = redis
        app.state.limiter, app.state.login_limiters = make_limiters(settings, redis)
        await app.state.passwords.start()
        app.state.email_sender = make_email_sender(settings, app.state.write_sessionmaker)
        app.state.user_work = user_work_for(settings)
        await seed_admin(app)
        url = broadcast_url(settings.redis_url, settings.broadcast_url)
        async with live_updates(url, settings.redis_prefix) as (events, chat):
            app.state.events, app.state.chat = events, chat
            yield
    finally:
        user_work = getattr(app.state, "user_work", None)
        if user_work is not None and not user_work.queue.distributed:
            await user_work.queue.aclose()  # in-process tasks still running are cancelled
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> Hasten:
    """Build the application for ``settings`` (read from the environment by default)."""
    settings = settings or Settings()
    check_settings(settings)
    app = Hasten(
        title=settings.app_name,
        version="1.0.0",
        description="The reference application of Hasten: a small shop with accounts, "
        "orders, background tasks, live updates, rate limiting and metrics.",
        openapi_tags=TAGS,
        lifespan=lifespan,
        # Multipart uploads are the largest bodies (JSON endpoints have 64 KiB each).
        max_body_size=settings.avatar_max_bytes + MULTIPART_OVERHEAD,
    )
    app.state.settings = settings
    app.state.passwords = Passwords(
        make_password_hash(settings), settings.password_hash_concurrency
    )
    try:
        app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    except ValueError as exc:
        raise InsecureConfiguration(f"SHOP_TRUSTED_PROXIES: {exc}") from None
    for router in (
        products.router,
        users.router,
        auth.router,
        orders.router,
        orders.chat_router,
        tasks.router,
    ):
        app.include_router(router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    ops.install(app)  # /health, /ready, /metrics and the metrics middleware
    return app


def _default_app() -> Hasten:
    try:
        return create_app()
    except InsecureConfiguration as exc:  # one line, no traceback: what to set
        raise SystemExit(f"shop: refusing to start: {exc}") from None


app = _default_app()
