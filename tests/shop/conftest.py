"""Fixtures of the shop's tests: every test runs against SQLite and PostgreSQL.

PostgreSQL (``SHOP_TEST_POSTGRES_URL``, default ``postgres@127.0.0.1:5432/test``) gets a fresh
schema per test, dropped afterwards; Redis (``SHOP_TEST_REDIS_URL``) a unique key prefix,
deleted afterwards. Where a service is not reachable its cases are skipped, saying so.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from shop_support import ADMIN, Shop  # noqa: E402

from examples.shop.main import create_app  # noqa: E402
from examples.shop.settings import Settings  # noqa: E402
from hasten import Hasten  # noqa: E402
from hasten.testclient import TestClient  # noqa: E402

POSTGRES_URLS = (
    [os.environ["SHOP_TEST_POSTGRES_URL"]]
    if os.environ.get("SHOP_TEST_POSTGRES_URL")
    else [
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        "postgresql+asyncpg://root@127.0.0.1:5432/test",
    ]
)
REDIS_URL = os.environ.get("SHOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _pg_execute(url: str, *statements: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@functools.cache
def postgres_url() -> str | None:
    """The first PostgreSQL URL that answers, or ``None``."""
    for url in POSTGRES_URLS:
        try:
            asyncio.run(_pg_execute(url, "SELECT 1"))
        except Exception:
            continue
        return url
    return None


@functools.cache
def redis_reachable() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@dataclass(frozen=True)
class Database:
    backend: str
    url: str
    schema: str | None = None


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, empty database: a SQLite file under tmp_path, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
        return
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL is not reachable at any of {POSTGRES_URLS}")
    schema = f"shop_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(url, f'CREATE SCHEMA "{schema}"'))
    try:
        yield Database("postgres", url, schema)
    finally:
        asyncio.run(_pg_execute(url, f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def make_settings(database: Database, tmp_path: Path) -> Any:
    """Settings for a test app; keyword arguments override the test defaults."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database.url,
            "database_schema": database.schema,
            "redis_url": None,
            "media_dir": tmp_path / "media",
            "jwt_secret": "test-secret-" + "x" * 60,
            "argon2_time_cost": 1,
            "argon2_memory_cost": 1024,
            "rate_limit_per_minute": 100_000,
            "login_attempts_per_username": 100_000,  # test_shop_login.py sets its own limits
            "login_attempts_per_client": 100_000,
            "admin_username": ADMIN[0],
            "admin_password": ADMIN[1],
            "smtp_host": None,
            "cors_origins": ["http://shop.example"],
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def app(make_settings: Any) -> Hasten:
    return create_app(make_settings())


@pytest.fixture
def client(app: Hasten) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def shop(client: TestClient) -> Shop:
    return Shop(client)


@pytest.fixture(params=["memory", "redis"])
def limiter_backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Settings overrides selecting the rate limiter's backend (Redis: a unique key prefix)."""
    if request.param == "memory":
        yield {"redis_url": None}
        return
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"shop-test:{os.getpid()}:{uuid.uuid4().hex}:"
    try:
        yield {"redis_url": REDIS_URL, "redis_prefix": prefix}
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
