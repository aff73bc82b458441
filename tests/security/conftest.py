"""Fixtures of the security tests: the reference shop on a fresh SQLite file.

Built from the shop's public ``create_app(Settings(...))`` the way tests/shop does, with a random
JWT secret per test (never a value that ships anywhere) and cheap argon2 costs.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
for extra in (str(ROOT), str(ROOT / "tests" / "shop")):
    if extra not in sys.path:
        sys.path.insert(0, extra)

from shop_support import ADMIN, Shop  # noqa: E402

from hasten import Hasten  # noqa: E402
from hasten.testclient import TestClient  # noqa: E402

# The shop is imported by the fixtures only: the tests here that do not use it never depend on it.


@pytest.fixture
def shop_settings(tmp_path: Path) -> Any:
    """The shop's settings on SQLite under ``tmp_path``, with a random 64-byte JWT secret."""
    from examples.shop.settings import Settings

    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        "database_schema": None,
        "redis_url": None,
        "media_dir": tmp_path / "media",
        "jwt_secret": secrets.token_urlsafe(64),
        "argon2_time_cost": 1,
        "argon2_memory_cost": 1024,
        "rate_limit_per_minute": 100_000,
        "admin_username": ADMIN[0],
        "admin_password": ADMIN[1],
        "smtp_host": None,
        "cors_origins": ["http://shop.example"],
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def shop_app(shop_settings: Any) -> Hasten:
    from examples.shop.main import create_app

    return create_app(shop_settings)


@pytest.fixture
def shop_client(shop_app: Hasten) -> Iterator[TestClient]:
    with TestClient(shop_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def shop(shop_client: TestClient) -> Shop:
    return Shop(shop_client)
