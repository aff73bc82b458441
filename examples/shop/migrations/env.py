"""Alembic environment: migrations run on the app's connection, or standalone from the CLI."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from examples.shop.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    from examples.shop.db import create_engine
    from examples.shop.settings import Settings

    engine = create_engine(Settings())
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    # Called by examples.shop.db.run_migrations at application startup.
    _run(connection)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    asyncio.run(_run_standalone())
