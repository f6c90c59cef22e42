"""Meetings through the real bot process: scheduled in chat, reminded once, RSVP, check-in."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.sandbox.fake_telegram import FakeTelegram
from bot.sandbox.fake_zalo import FakeZalo
from scheduler.recurrence import occurrences
from tests.e2e.conftest import Sandbox

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def join_telegram(sb: Sandbox, user: int, code: str, name: str) -> None:
    tg = sb.telegram
    tg.user_says(user, code)
    await tg.wait_for_bot_messages(user, 1)
    tg.press(user, button=1)
    await tg.wait_for_bot_messages(user, 2)
    tg.user_says(user, name)
    await tg.wait_for_bot_messages(user, 3)
    tg.press(user, button=1)
    msgs = await tg.wait_for_bot_messages(user, 4)
    assert "Chào mừng" in (msgs[-1].text or "")


async def join_zalo(sb: Sandbox, user: str, code: str, name: str) -> None:
    zl = sb.zalo
    for i, text in enumerate((code, "1", name, "1"), start=1):
        zl.user_says(user, text)
        await zl.wait_for_bot_messages(user, i)
    assert "Chào mừng" in (zl.bot_messages(user)[-1].text or "")


async def wait_for_text(fake: FakeTelegram | FakeZalo, chat: int | str, needle: str) -> str:
    """The newest bot message in ``chat`` matching the regex ``needle`` (waits up to ~15 s)."""
    for _ in range(150):
        for message in reversed(fake.bot_messages(chat)):  # type: ignore[arg-type]
            if re.search(needle, message.text or ""):
                return message.text or ""
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {needle!r} in chat {chat}:\n{fake.format_transcript(chat)}")  # type: ignore[arg-type]


def next_last_saturday(now: datetime) -> datetime:
    rule = {"kind": "weekday", "weekday": 5, "week": -1}
    local = now.astimezone(TZ)
    found = occurrences(
        rule, 1, "19:30", (local.year, local.month), TZ, now, now + timedelta(days=70)
    )
    return found[0][1]


@pytest.mark.single_backend
async def test_meeting_reminder_rsvp_and_check_in_on_both_channels(sandbox: Sandbox) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    await join_telegram(sandbox, 801, sandbox.codes["AP-PT-A1/secretary"], "Võ Thị Mai")
    await join_telegram(sandbox, 802, sandbox.codes["AP-PT-A1/member"], "Lê Văn Nam")
    await join_zalo(sandbox, "zm_803", sandbox.codes["AP-PT-A1/member"], "Trần Thị Bình")

    tg.user_says(801, "/lichsinhhoat")
    await tg.wait_for_bot_messages(801, 5)
    tg.press(801, button="Đặt lịch hằng tháng")
    for count, text in ((7, "thứ 7 tuần cuối"), (8, "19:30"), (9, "Nhà văn hóa ấp 1")):
        await tg.wait_for_bot_messages(801, count - 1)
        tg.user_says(801, text)
    await tg.wait_for_bot_messages(801, 9)
    tg.press(801, button="Bỏ qua")
    await tg.wait_for_bot_messages(801, 10)
    tg.press(801, button="💾 Lưu")
    saved = (await tg.wait_for_bot_messages(801, 11))[-1].text or ""
    starts = next_last_saturday(datetime.now(UTC))
    assert starts.astimezone(TZ).strftime("19:30 %d/%m/%Y") in saved

    tg_before, zl_before = len(tg.bot_messages(802)), len(zl.bot_messages("zm_803"))
    sandbox.move_clock_to(starts - timedelta(hours=23, minutes=50))  # the day before
    reminder = (await tg.wait_for_bot_messages(802, tg_before + 1))[-1]
    assert "Bạn có tham gia không?" in (reminder.text or "")
    assert reminder.buttons == [["✅ Tham gia", "❌ Vắng"], ["🤔 Chưa chắc"]]
    zalo_reminder = (await zl.wait_for_bot_messages("zm_803", zl_before + 1))[-1]
    assert '"vắng" (kèm lý do)' in (zalo_reminder.text or "")

    # A crash and a restart re-run every job: nothing is sent twice. (The instant between
    # the platform accepting a message and the row being marked sent is the one window
    # where a kill repeats a message; tests/e2e/test_join_e2e.py covers that case.)
    await asyncio.sleep(1.0)
    await sandbox.bot.kill()
    await sandbox.bot.start()
    await asyncio.sleep(2.0)
    assert len(tg.bot_messages(802)) == tg_before + 1
    assert len(zl.bot_messages("zm_803")) == zl_before + 1

    tg.press(802, button="✅ Tham gia", message_id=reminder.message_id)
    msgs = await tg.wait_for_bot_messages(802, tg_before + 2)
    assert "Đã ghi nhận: ✅ Tham gia" in (msgs[-1].text or "")
    assert "Bạn đã chọn: ✅ Tham gia" in (tg.transcript(802)[-3].text or "") or any(
        "Bạn đã chọn" in (m.text or "") for m in tg.bot_messages(802)
    )
    zl.user_says("zm_803", "vang vi bi om")
    msgs = await zl.wait_for_bot_messages("zm_803", zl_before + 2)
    assert "Đã ghi nhận: ❌ Vắng" in (msgs[-1].text or "")

    sandbox.move_clock_to(starts + timedelta(minutes=5))  # the meeting has begun
    tg.user_says(801, "/diemdanh")
    await wait_for_text(tg, 801, "Mã điểm danh: -$")
    tg.press(801, button="▶️ Mở điểm danh")
    code = re.search(r"Mã điểm danh: (\d{4})", await wait_for_text(tg, 801, r"danh: \d{4}"))
    assert code is not None
    await wait_for_text(zl, "zm_803", "có mặt <mã>")  # the check-in notice
    zl.user_says("zm_803", f"có mặt {code.group(1)}")
    await wait_for_text(zl, "zm_803", "Đã điểm danh")
