"""Two bot processes on one database: one scheduler leader, each reminder sent once,
and when the leader is killed the other takes over and carries on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox.fake_telegram import FakeTelegram
from bot.sandbox.fake_zalo import FakeZalo
from storage.db import Database
from storage.models import Meeting
from storage.uow import unit_of_work
from tests.e2e.conftest import (
    TG_SECRET,
    TG_TOKEN,
    ZALO_SECRET,
    ZALO_TOKEN,
    BotProcess,
    Sandbox,
    _env,
    _seed,
)
from tests.e2e.test_meetings_e2e import join_telegram, join_zalo

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def pair(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Sandbox, BotProcess]]:
    telegram = FakeTelegram(TG_TOKEN, webhook_retry_delay=0.2)
    zalo = FakeZalo(ZALO_TOKEN, webhook_retry_delay=0.2)
    await telegram.start()
    await zalo.start()
    codes = await _seed(database_url)
    clock_file = tmp_path / "clock-offset"
    clock_file.write_text("0")
    bots = []
    for name, public in (("a", True), ("b", False)):
        port = free_port()
        env = _env(database_url, telegram, zalo)
        env.update(
            DOANBOT_WEBHOOK_HOST="127.0.0.1",
            DOANBOT_WEBHOOK_PORT=str(port),
            DOANBOT_TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
            DOANBOT_ZALO_WEBHOOK_SECRET=ZALO_SECRET,
            DOANBOT_CLOCK_OFFSET_FILE=str(clock_file),
            DOANBOT_SCHEDULER_TICK_SECONDS="0.5",
            DOANBOT_LEADER_RETRY_SECONDS="1",
        )
        if public:  # only the first registers the webhooks: updates reach process a
            env["DOANBOT_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        bots.append(BotProcess(env, tmp_path / f"bot-{name}.log", args=["--webhook"]))
    box = Sandbox(telegram, zalo, bots[0], codes, database_url, clock_file)
    try:
        for bot in bots:
            await bot.start()
        yield box, bots[1]
    finally:
        for bot in bots:
            await bot.stop()
        await telegram.stop()
        await zalo.stop()


async def add_meeting(url: str, starts_at: datetime) -> None:
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            unit = await uow.units.by_code("AP-PT-A1")
            assert unit is not None and unit.id is not None
            uow.session.add(
                Meeting(
                    unit_id=unit.id, occurrence="once-e2e", starts_at=starts_at, place="Hội trường"
                )
            )
            await uow.commit()
    finally:
        await db.dispose()


async def test_one_leader_no_duplicates_and_failover(pair: tuple[Sandbox, BotProcess]) -> None:
    box, other = pair
    first = box.bot
    leaders = [b for b in (first, other) if "became the scheduler leader" in b.log()]
    assert len(leaders) == 1
    leader, standby = leaders[0], (other if leaders[0] is first else first)

    await join_telegram(box, 901, box.codes["AP-PT-A1/member"], "Lê Văn Nam")
    await join_zalo(box, "zm_902", box.codes["AP-PT-A1/member"], "Trần Thị Bình")
    # 15:00 in Vietnam, three days on: neither reminder falls in quiet hours (21:30–07:00),
    # whatever time of day the test runs.
    local = (datetime.now(UTC) + timedelta(days=3)).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    starts = local.replace(hour=15, minute=0, second=0, microsecond=0).astimezone(UTC)
    await add_meeting(box.database_url, starts)
    tg_before = len(box.telegram.bot_messages(901))
    zl_before = len(box.zalo.bot_messages("zm_902"))

    box.move_clock_to(starts - timedelta(hours=23, minutes=59))
    await box.telegram.wait_for_bot_messages(901, tg_before + 1)
    await box.zalo.wait_for_bot_messages("zm_902", zl_before + 1)
    await asyncio.sleep(3)  # both processes tick several times: still one reminder each
    assert len(box.telegram.bot_messages(901)) == tg_before + 1
    assert len(box.zalo.bot_messages("zm_902")) == zl_before + 1

    await leader.kill()
    await standby.wait_for_log("became the scheduler leader", within=15)
    box.move_clock_to(starts - timedelta(hours=1, minutes=59))  # the 2-hour reminder
    msgs = await box.telegram.wait_for_bot_messages(901, tg_before + 2, timeout=20)
    await box.zalo.wait_for_bot_messages("zm_902", zl_before + 2, timeout=20)
    assert "Nhắc lịch sinh hoạt" in (msgs[-1].text or "")
    await asyncio.sleep(3)
    assert len(box.telegram.bot_messages(901)) == tg_before + 2
    assert len(box.zalo.bot_messages("zm_902")) == zl_before + 2
