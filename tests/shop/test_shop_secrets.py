"""Finding 1 of issue 14: no JWT secret and no admin password ship with the shop.

For the local default (a SQLite file) each installation generates its own, stored beside the
database file (mode 0600) and reused after a restart; with a database server the shop refuses
to start without them; known and weak values are refused everywhere, in one line.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from shop_support import Shop

from examples.shop.main import create_app
from examples.shop.settings import Settings
from hasten.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_SECRET = "dev-only-secret-change-me-in-production-please"
"""The JWT secret older versions shipped in settings.py: anyone could sign admin tokens."""
SHIPPED_ADMIN_PASSWORD = "admin-password"
"""The admin password older versions of ./scripts/serve set."""


def _local(tmp_path: Path, **values: Any) -> Settings:
    """Settings of a local installation: a SQLite file, nothing secret configured."""
    defaults: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'var' / 'shop.db'}",
        "media_dir": tmp_path / "var" / "media",
        "redis_url": None,
        "argon2_time_cost": 1,
        "argon2_memory_cost": 1024,
        "rate_limit_per_minute": 100_000,
    }
    return Settings(_env_file=None, **{**defaults, **values})  # type: ignore[call-arg]


def _forged_admin_token(secret: str, subject: str = "1") -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "role": "admin",
        "iss": "hasten-shop",
        "aud": "hasten-shop-api",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def test_local_install_generates_its_own_secret_and_keeps_it(tmp_path: Path) -> None:
    """The secret is generated at first start (0600, beside shop.db), reused after a restart,
    differs between installations; a token signed with the shipped value is refused."""
    settings = _local(tmp_path, admin_username="admin", admin_password="a-long-admin-pw-1")
    secret_file = tmp_path / "var" / "jwt-secret"
    with TestClient(create_app(settings)) as client:
        shop = Shop(client)
        headers = shop.auth("admin", "a-long-admin-pw-1")
        assert secret_file.is_file()
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text().strip()
        assert len(secret.encode()) >= 32
        assert secret != SHIPPED_SECRET
        forged = {"Authorization": f"Bearer {_forged_admin_token(SHIPPED_SECRET)}"}
        assert client.get("/users", headers=forged).status_code == 401
        assert client.get("/users", headers=headers).status_code == 200
    # A restart reads the same secret: tokens issued before it stay valid.
    with TestClient(create_app(settings)) as client:
        assert client.get("/users", headers=headers).status_code == 200
        assert secret_file.read_text().strip() == secret
    other = tmp_path / "other"
    with TestClient(create_app(_local(other))) as client:
        assert client.get("/health").status_code == 200
    assert (other / "var" / "jwt-secret").read_text().strip() != secret


def test_startup_says_where_the_generated_secret_lives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(_local(tmp_path))):
        pass
    err = capsys.readouterr().err
    path = tmp_path / "var" / "jwt-secret"
    assert f"shop: JWT secret generated into {path} (mode 0600)" in err.splitlines()
    assert path.read_text().strip() not in err  # the location, never the secret
    with TestClient(create_app(_local(tmp_path))):
        pass
    assert f"shop: JWT secret read from {path} (mode 0600)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"jwt_secret": SHIPPED_SECRET},
            "SHOP_JWT_SECRET is a publicly known value",
        ),
        ({"jwt_secret": "short-secret"}, "SHOP_JWT_SECRET is too short (12 bytes)"),
        (
            {"database_url": "postgresql+asyncpg://shop@db.example/shop"},
            "SHOP_JWT_SECRET is not set: a shop on a database server needs a secret",
        ),
        (
            {"admin_username": "admin", "admin_password": SHIPPED_ADMIN_PASSWORD},
            "SHOP_ADMIN_PASSWORD is a publicly known password",
        ),
        (
            {"admin_username": "admin", "admin_password": "short"},
            "SHOP_ADMIN_PASSWORD is too short",
        ),
        (
            {
                "database_url": "postgresql+asyncpg://shop@db.example/shop",
                "jwt_secret": "s" * 40,
                "admin_username": "admin",
            },
            "SHOP_ADMIN_PASSWORD is not set for the admin user 'admin'",
        ),
    ],
)
def test_refuses_known_weak_or_missing_secrets(
    tmp_path: Path, values: dict[str, Any], message: str
) -> None:
    from examples.shop.credentials import InsecureConfiguration

    with pytest.raises(InsecureConfiguration) as refused:
        create_app(_local(tmp_path, **values))
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_a_server_database_needs_the_secret_refusal_is_one_line(tmp_path: Path) -> None:
    """``uvicorn examples.shop.main:app`` with a database server and no secret: exit 1 and one
    line on stderr saying what to set (no traceback)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SHOP_") and key != "DATABASE_URL"
    }
    env["SHOP_DATABASE_URL"] = "postgresql+asyncpg://shop@db.invalid/shop"
    result = subprocess.run(
        [sys.executable, "-c", "import examples.shop.main"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("shop: refusing to start: SHOP_JWT_SECRET is not set")


def test_admin_password_generated_once_printed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No admin password configured (local): one is generated at first start, kept beside the
    database (0600), printed when the admin is created and only its location afterwards."""
    settings = _local(tmp_path, admin_username="admin")
    path = tmp_path / "var" / "admin-password"
    with TestClient(create_app(settings)) as client:
        password = path.read_text().strip()
        assert len(password) >= 12 and password != SHIPPED_ADMIN_PASSWORD
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert client.get("/users", headers=Shop(client).auth("admin", password)).status_code == 200
        refused = client.post(
            "/auth/token", data={"username": "admin", "password": SHIPPED_ADMIN_PASSWORD}
        )
        assert refused.status_code == 401
    first = capsys.readouterr().err
    assert first.count(password) == 1
    assert f"(kept in {path}, mode 0600)" in first
    with TestClient(create_app(settings)) as client:
        assert client.get("/users", headers=Shop(client).auth("admin", password)).status_code == 200
    again = capsys.readouterr().err
    assert password not in again
    assert f"shop: the admin user 'admin': its generated password is in {path}" in again


def test_serve_script_sets_no_known_admin_password() -> None:
    """./scripts/serve no longer sets ``admin-password`` (or any password) for the admin."""
    script = (ROOT / "scripts" / "serve").read_text()
    assert SHIPPED_ADMIN_PASSWORD not in script.replace("var/admin-password", "")
    assert "SHOP_ADMIN_PASSWORD=" not in script
