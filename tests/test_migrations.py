"""The migrations build exactly the schema the models describe, and undo cleanly."""

from __future__ import annotations

import asyncio

from alembic import command

from storage.migrate import alembic_config


async def test_models_and_migrations_agree(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.check, config)  # raises if autogenerate finds a difference
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "head")
