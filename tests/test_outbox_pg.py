"""Several senders on one PostgreSQL database: every row goes out exactly once, in order.

Skipped unless DOANBOT_TEST_DATABASE_URL points at a PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.config import Settings
from bot.messages import Channel, Outgoing
from bot.sender import OutboxSender
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import OutboxMessage, OutboxStatus
from storage.outbox import BULK
from storage.uow import unit_of_work
from tests.conftest import PG_URL, reset_postgres
from tests.support import MovableClock

pytestmark = pytest.mark.skipif(PG_URL is None, reason="needs DOANBOT_TEST_DATABASE_URL")


@dataclass
class SharedLog:
    """Every delivery of every sender, in the order they reached the "platform"."""

    entries: list[tuple[str, str, int]] = field(default_factory=list)  # sender, chat, row


@dataclass
class LoggingChannel:
    channel: Channel
    name: str
    log: SharedLog

    async def deliver(self, out: Outgoing) -> None:
        await asyncio.sleep(random.uniform(0, 0.003))  # the platform takes a moment
        self.log.entries.append((self.name, out.chat_id, int(out.text)))


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    assert PG_URL is not None
    await reset_postgres(PG_URL)
    await upgrade_async(PG_URL)
    yield PG_URL


def settings(url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        telegram_rate_per_second=1000.0,
        telegram_private_chat_interval=0.0,
    )


async def fill(url: str, clock: MovableClock, chats: int, per_chat: int) -> list[int]:
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            for n in range(per_chat):
                for chat in range(chats):
                    number = str(n * chats + chat)  # the text is the row's place in line
                    out = Outgoing(kind="send", chat_id=str(1000 + chat), text=number)
                    await uow.outbox.add(
                        "telegram", out, now=clock(), priority=BULK, dedupe_key=f"b:{out.text}"
                    )
            await uow.commit()
            rows = await uow.session.exec(select(OutboxMessage.id))
            return [r for r in rows.all() if r is not None]
    finally:
        await db.dispose()


async def sent(url: str) -> int:
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            return (await uow.outbox.counts()).get(OutboxStatus.SENT.value, 0)
    finally:
        await db.dispose()


async def test_two_senders_deliver_500_rows_exactly_once_and_in_order(pg_url: str) -> None:
    clock = MovableClock()
    await fill(pg_url, clock, chats=100, per_chat=5)
    log = SharedLog()
    senders = []
    for name in ("a", "b"):
        db = Database(pg_url)  # each its own engine and pool, like two processes
        adapter = LoggingChannel(Channel.TELEGRAM, name, log)
        senders.append(
            OutboxSender(db, {"telegram": adapter}, settings(pg_url), clock, sender_id=name)
        )
    running = [asyncio.create_task(s.run()) for s in senders]
    try:
        # Both look for work all the time: as much contention as two senders can make.
        for _ in range(1500):
            if await sent(pg_url) == 500:
                break
            for sender in senders:
                sender.wake()
            await asyncio.sleep(0.02)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for sender in senders:
            await sender.close()
            await sender.db.dispose()

    delivered = [text for _, _, text in log.entries]
    assert sorted(delivered) == list(range(500))  # all of them, none twice
    by_sender = {name: sum(1 for s, _, _ in log.entries if s == name) for name in "ab"}
    assert all(by_sender.values()), by_sender  # both really worked
    per_chat: dict[str, list[int]] = {}
    for _, chat, text in log.entries:
        per_chat.setdefault(chat, []).append(text)
    assert all(texts == sorted(texts) for texts in per_chat.values())


async def test_racing_claims_never_share_a_row(pg_url: str) -> None:
    clock = MovableClock()
    await fill(pg_url, clock, chats=300, per_chat=1)
    dbs = [Database(pg_url) for _ in range(3)]

    async def claim(n: int) -> list[int]:
        async with unit_of_work(dbs[n % 3]) as uow:
            result = await uow.outbox.claim(
                "telegram",
                f"claimer-{n}",
                now=clock(),
                lease=timedelta(seconds=60),
                limit=100,
            )
            await uow.commit()
        return [r.id for r in result.rows if r.id is not None]

    try:
        claims = await asyncio.gather(*(claim(n) for n in range(12)))
        every = [row_id for ids in claims for row_id in ids]
        assert every and len(every) == len(set(every))
        async with unit_of_work(dbs[0]) as uow:
            rows = (
                await uow.session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
            ).all()
        owners = {row.id: row.claimed_by for row in rows}
        for n, ids in enumerate(claims):
            assert all(owners[row_id] == f"claimer-{n}" for row_id in ids)
    finally:
        for db in dbs:
            await db.dispose()
