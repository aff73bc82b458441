"""Configuration read from the environment (prefix ``SHOP_``) and an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

HERE = Path(__file__).resolve().parent
VAR_DIR = HERE / "var"


class Settings(BaseSettings):
    """Every knob of the shop; ``Settings()`` reads ``SHOP_*`` variables and ``.env``.

    ``DATABASE_URL`` and ``REDIS_URL`` are also accepted without the prefix.
    """

    model_config = SettingsConfigDict(
        env_prefix="SHOP_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    app_name: str = "Hasten Shop"
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{VAR_DIR / 'shop.db'}",
        validation_alias=AliasChoices("SHOP_DATABASE_URL", "DATABASE_URL"),
    )
    database_schema: str | None = None
    """PostgreSQL only: the schema to work in (``search_path``); it must exist."""
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SHOP_REDIS_URL", "REDIS_URL")
    )
    redis_prefix: str = "shop:"
    broadcast_url: str | None = None
    """Where live updates (order events, chat) go: ``memory://`` (one process) or a Redis
    URL; unset, the shop's Redis if configured, else memory."""

    task_broker_url: str | None = None
    """``amqp://user:password@host:5672/``: registration and avatar work goes to the task queue
    (Dramatiq on RabbitMQ; ``hasten worker examples.shop.tasks:queue`` runs it; statuses of the
    queue in ``redis_url``, which is then required). Unset: it runs in the server process."""
    task_queue_name: str = "shop"

    media_dir: Path = VAR_DIR / "media"
    avatar_max_bytes: int = 2 * 1024 * 1024
    avatar_size: int = 128

    jwt_secret: str | None = None
    """At least 32 bytes. Unset: generated once beside a SQLite file, required otherwise."""
    jwt_issuer: str = "hasten-shop"
    jwt_audience: str = "hasten-shop-api"
    jwt_expire_minutes: int = 30

    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    """Argon2 memory cost in KiB (tests lower both costs to run fast)."""
    password_hash_concurrency: int = Field(default=2, ge=1)
    """At most this many argon2 computations at once (each takes ``argon2_memory_cost``)."""

    rate_limit_per_minute: int = 100
    rate_limit_window_seconds: float = 60.0
    rate_limit_max_keys: int = Field(default=100_000, ge=1)
    """The in-memory limiter forgets its least recently seen client beyond this many."""
    trusted_proxies: list[str] = []
    """Addresses or networks of reverse proxies whose ``X-Forwarded-For`` is believed."""

    login_attempts_per_username: int = 10
    login_attempts_per_client: int = 30
    login_window_seconds: float = 300.0

    cors_origins: list[str] = ["http://localhost:3000", "http://127.0.0.1:3000"]

    admin_username: str | None = None
    admin_email: str = "admin@shop.example"
    admin_password: str | None = None
    """At least 12 characters. Unset: generated once beside a SQLite file, required otherwise."""

    mail_from: str = "shop@shop.example"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
