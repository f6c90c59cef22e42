"""Database hiccups, poisoned events, housekeeping and secrets in logs."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from bot.app import App
from bot.config import Settings
from bot.logs import RedactSecrets
from bot.messages import Incoming, Outgoing
from scheduler.jobs import prune_delivery_records, purge_expired_conversations
from storage.models import Conversation, InboxEvent, InboxStatus, Person
from storage.uow import UnitOfWork, unit_of_work
from tests.support import Chat, MovableClock, texts
from tests.test_join_flow import count, seed


async def test_a_database_hiccup_is_retried_and_applied_once(
    app: App, clock: MovableClock, zalo_user: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = await seed(app, clock)
    app.processor._retry_base = 0.01
    real = app.processor.engine.handle
    failures = {"left": 2}

    async def flaky(uow: UnitOfWork, incoming: Incoming, now: object) -> list[Outgoing]:
        replies = await real(uow, incoming, now)  # type: ignore[arg-type]
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database went away")  # after the changes: all rolled back
        return replies

    monkeypatch.setattr(app.processor.engine, "handle", flaky)
    await zalo_user.says(codes["AP-PT-A1/member"])
    await zalo_user.says("1")
    await zalo_user.says("Lê Văn Nam")
    out = await zalo_user.says("1")
    assert "Chào mừng" in texts(out)
    assert out.count(out[0]) == 1
    assert await count(app, Person) == 1


async def test_a_poisoned_event_gets_an_apology_and_does_not_block(
    app: App, clock: MovableClock, zalo_user: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.processor._retry_base = 0.001
    real = app.processor.engine.handle

    async def broken(uow: UnitOfWork, incoming: Incoming, now: object) -> list[Outgoing]:
        if incoming.text == "boom":
            raise RuntimeError("bug")
        return await real(uow, incoming, now)  # type: ignore[arg-type]

    monkeypatch.setattr(app.processor.engine, "handle", broken)
    out = await zalo_user.says("boom")
    assert "gặp sự cố" in texts(out)
    out = await zalo_user.says("xin chào")
    assert "mã mời" in texts(out)
    async with unit_of_work(app.db) as uow:
        rows = (await uow.session.exec(select(InboxEvent))).all()
        assert [r.status for r in rows] == [InboxStatus.FAILED, InboxStatus.DONE]
        assert all(r.payload is None for r in rows)  # nothing personal kept once handled


async def test_housekeeping_drops_expired_conversations_and_old_records(
    app: App, clock: MovableClock, zalo_user: Chat
) -> None:
    codes = await seed(app, clock)
    await zalo_user.says(codes["AP-PT-A1/member"])
    assert await count(app, Conversation) == 1
    clock.advance(minutes=31)
    assert await purge_expired_conversations(app.db, clock) == 1
    assert await count(app, Conversation) == 0
    clock.advance(days=8)
    assert await prune_delivery_records(app.db, clock, retention_days=7) >= 2
    assert await count(app, InboxEvent) == 0


def test_tokens_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(telegram_token="111:SECRET-TOKEN", _env_file=None)  # type: ignore[call-arg]
    logger = logging.getLogger("test.redact")
    handler_filter = RedactSecrets([settings.telegram_token.get_secret_value()])  # type: ignore[union-attr]
    logger.addFilter(handler_filter)
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("calling %s", "https://api.telegram.org/bot111:SECRET-TOKEN/getMe")
        logger.info("token is %s", "111:SECRET-TOKEN")
    assert "SECRET-TOKEN" not in caplog.text
    assert "/bot***/getMe" in caplog.text
    assert "SECRET" not in repr(settings)
