"""Database engine, sessions, migrations and the ``get_db`` dependency.

SQLite (the default, an embedded file through aiosqlite) runs in WAL mode with a busy timeout;
sessions that write (unsafe requests, background work) start their transaction with
``BEGIN IMMEDIATE``, so two writers queue up instead of failing halfway; readers never wait.
PostgreSQL (asyncpg) needs nothing special; ``database_schema`` sets its ``search_path``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from hasten import Request

from .settings import HERE, Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_IMMEDIATE = "shop_begin_immediate"


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine for ``settings.database_url`` (SQLite or PostgreSQL)."""
    url = make_url(settings.database_url)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _create_async_engine(url, connect_args=connect_args)
        _install_sqlite_hooks(engine)
        return engine
    if settings.database_schema:
        connect_args["server_settings"] = {"search_path": settings.database_schema}
    return _create_async_engine(url, connect_args=connect_args, pool_pre_ping=True)


def create_sessionmaker(
    engine: AsyncEngine, *, writer: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (no lazy reloads in async code).

    A ``writer`` session's transaction is a write transaction from its first statement on
    (``BEGIN IMMEDIATE`` on SQLite; the same as a plain session elsewhere).
    """
    bind = engine.execution_options(**{_IMMEDIATE: True}) if writer else engine
    return async_sessionmaker(bind, expire_on_commit=False)


def _alembic_config() -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    return config


def _upgrade(connection: Connection) -> None:
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def run_migrations(engine: AsyncEngine) -> None:
    """Apply every Alembic migration up to ``head`` (idempotent)."""
    async with engine.connect() as connection:
        writer = await connection.execution_options(**{_IMMEDIATE: True})
        await writer.run_sync(_upgrade)
        await writer.commit()


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request (a writer for unsafe methods), closed afterwards."""
    state = request.app.state
    safe = request.method in SAFE_METHODS
    sessionmaker: async_sessionmaker[AsyncSession] = (
        state.sessionmaker if safe else state.write_sessionmaker
    )
    async with sessionmaker() as session:
        yield session


async def get_read_db(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for endpoints that only read, whatever their method (e.g. logging in)."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        yield session
