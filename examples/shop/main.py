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

from .db import create_engine, create_sessionmaker, run_migrations
from .events import ChatRooms, EventBus
from .metrics import MetricsMiddleware, MetricsStore
from .models import User
from .ratelimit import Limiter, MemoryLimiter, RedisLimiter
from .routers import auth, ops, orders, products, tasks, users
from .security import hash_password, make_password_hash
from .settings import Settings
from .tasks import make_email_sender

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
    """Create the configured admin user unless it exists (safe to run on every start)."""
    settings: Settings = app.state.settings
    if not settings.admin_username or not settings.admin_password:
        return
    async with app.state.write_sessionmaker() as session:
        found = await session.scalar(select(User).where(User.username == settings.admin_username))
        if found is not None:
            return
        session.add(
            User(
                username=settings.admin_username,
                email=settings.admin_email,
                password_hash=await hash_password(app.state.password_hash, settings.admin_password),
                role="admin",
            )
        )
        await session.commit()
        logger.info("created admin user %r", settings.admin_username)


def _make_limiter(settings: Settings, redis: Redis | None) -> Limiter:
    limit, window = settings.rate_limit_per_minute, settings.rate_limit_window_seconds
    if redis is not None:
        return RedisLimiter(redis, limit, window, settings.redis_prefix)
    return MemoryLimiter(limit, window)


@asynccontextmanager
async def lifespan(app: Hasten) -> AsyncIterator[None]:
    """Open the engine (migrated) and Redis; close both at shutdown."""
    settings: Settings = app.state.settings
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
        app.state.limiter = _make_limiter(settings, redis)
        app.state.email_sender = make_email_sender(settings, app.state.write_sessionmaker)
        await seed_admin(app)
        yield
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> Hasten:
    """Build the application for ``settings`` (read from the environment by default)."""
    settings = settings or Settings()
    app = Hasten(
        title=settings.app_name,
        version="1.0.0",
        description="The reference application of Hasten: a small shop with accounts, "
        "orders, background tasks, live updates, rate limiting and metrics.",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.password_hash = make_password_hash(settings)
    app.state.metrics = MetricsStore(settings.metrics_keep)
    app.state.events = EventBus()
    app.state.chat = ChatRooms()
    for router in (
        products.router,
        users.router,
        auth.router,
        orders.router,
        orders.chat_router,
        tasks.router,
        ops.router,
    ):
        app.include_router(router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(MetricsMiddleware, store=app.state.metrics)
    return app


app = create_app()
