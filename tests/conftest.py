"""Shared fixtures. Set DOANBOT_TEST_DATABASE_URL to run database tests on PostgreSQL too."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.app import App, create_app
from bot.config import Settings
from bot.messages import Channel
from storage.migrate import upgrade_async
from tests.support import Chat, MovableClock, RecordingChannel


def _worker_url(url: str | None) -> str | None:
    """Each pytest-xdist worker gets a database of its own: ``test`` → ``test_gw1``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url is None or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


BASE_PG_URL = os.environ.get("DOANBOT_TEST_DATABASE_URL")
PG_URL = _worker_url(BASE_PG_URL)
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _dsn(url: str) -> str:
    from storage.db import normalise_url

    return normalise_url(url).replace("postgresql+asyncpg://", "postgresql://")


async def reset_postgres(url: str) -> None:
    """An empty public schema, so each test starts from the migrations."""
    import asyncpg

    try:
        conn = await asyncpg.connect(_dsn(url))
    except asyncpg.InvalidCatalogNameError:  # a worker's own database, made on first use
        assert BASE_PG_URL is not None
        admin = await asyncpg.connect(_dsn(BASE_PG_URL))
        try:
            await admin.execute(f'CREATE DATABASE "{make_url(url).database}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def _head() -> str:
    from alembic.script import ScriptDirectory

    from storage.migrate import MIGRATIONS, alembic_config

    config = alembic_config("sqlite://")
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


# Migrating for every test costs a third of a second; each worker migrates once and
# then copies the SQLite file, or empties the PostgreSQL tables, for every test.
_sqlite_template: Path | None = None
_pg_ready = False


async def _fresh_sqlite(tmp_path: Path, factory: pytest.TempPathFactory) -> str:
    global _sqlite_template
    if _sqlite_template is None:
        template = factory.mktemp("migrated") / "template.sqlite3"
        await upgrade_async(f"sqlite+aiosqlite:///{template}")
        with sqlite3.connect(template) as conn:  # everything in the main file, none in -wal
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
        _sqlite_template = template
    target = tmp_path / "test.sqlite3"
    shutil.copyfile(_sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


async def _empty_postgres(url: str) -> bool:
    """Empty every table of a database already at head; False when it is not at head."""
    import asyncpg

    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("SET lock_timeout = '5s'")
        version = await conn.fetchval("SELECT version_num FROM alembic_version")
        if version != _head():
            return False
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        )
        names = ", ".join(f'"{row["tablename"]}"' for row in tables)
        await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        return True
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database at the newest migration with nothing in it, SQLite or PostgreSQL."""
    global _pg_ready
    if request.param == "sqlite":
        return await _fresh_sqlite(tmp_path, tmp_path_factory)
    assert PG_URL is not None
    if not (_pg_ready and await _empty_postgres(PG_URL)):
        await reset_postgres(PG_URL)
        await upgrade_async(PG_URL)
        _pg_ready = True
    return PG_URL


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end conversations marked ``single_backend`` run on SQLite only.

    Their database work runs on PostgreSQL in the in-process tests already; what is
    PostgreSQL's own in a real process (locks, leader election, crash recovery) is
    covered by the end-to-end tests that stay on both backends.
    """
    skip = pytest.mark.skip(reason="single_backend: PostgreSQL covered in process")
    for item in items:
        spec = getattr(item, "callspec", None)
        on_pg = spec is not None and spec.params.get("database_url") == "postgresql"
        if on_pg and item.get_closest_marker("single_backend"):
            item.add_marker(skip)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def app(database_url: str, clock: MovableClock) -> AsyncIterator[App]:
    # The recording channel has no rate limits: no need to space messages to one chat.
    settings = Settings(  # type: ignore[call-arg]
        database_url=database_url, _env_file=None, telegram_private_chat_interval=0
    )
    application = create_app(settings, clock=clock)
    application.channels["telegram"] = RecordingChannel(Channel.TELEGRAM)  # type: ignore[assignment]
    application.channels["zalo"] = RecordingChannel(Channel.ZALO)  # type: ignore[assignment]
    application.sender.adapters = application.channels  # type: ignore[assignment]
    yield application
    await application.processor.close()
    await application.sender.close()
    await application.db.dispose()


@pytest.fixture
def telegram_user(app: App) -> Chat:
    return Chat(app, app.channels["telegram"], "5001")  # type: ignore[arg-type]


@pytest.fixture
def zalo_user(app: App) -> Chat:
    return Chat(app, app.channels["zalo"], "zu_7001", display_name="Trần Thị Bình")  # type: ignore[arg-type]
