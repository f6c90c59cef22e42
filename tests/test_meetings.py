"""Branch meetings in process: schedule by chat, reminders once, RSVP, check-in, follow-up."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlmodel import select

from bot.app import App
from bot.messages import Outgoing
from scheduler.meetings import (
    materialize_meetings,
    send_meeting_reminders,
    send_meeting_summaries,
)
from storage.models import Meeting, OutboxMessage, Rsvp
from storage.sample import seed_sample_province
from storage.uow import unit_of_work
from tests.support import Chat, MovableClock, texts
from tests.test_flows import joined
from tests.test_join_flow import seed


async def tick(app: App, clock: MovableClock) -> int:
    """One scheduler tick, then deliver what it queued."""
    queued = await materialize_meetings(app.db, app.settings, clock)
    queued += await send_meeting_reminders(app.db, app.settings, clock)
    queued += await send_meeting_summaries(app.db, app.settings, clock)
    await app.sender.drain()
    return queued


def new(chat: Chat) -> list[Outgoing]:
    mine = [o for o in chat.channel.delivered if o.chat_id == chat.chat_id]
    fresh, chat.seen = mine[chat.seen :], len(mine)
    return fresh


async def branch(app: App, clock: MovableClock) -> tuple[Chat, Chat, Chat]:
    """A secretary on Telegram, a member on Telegram and a member on Zalo, in ấp 1."""
    codes = await seed(app, clock)
    secretary = Chat(app, app.channels["telegram"], "7001")  # type: ignore[arg-type]
    tg_member = Chat(app, app.channels["telegram"], "7002")  # type: ignore[arg-type]
    zalo_member = Chat(app, app.channels["zalo"], "zm_7003")  # type: ignore[arg-type]
    await joined(secretary, codes["AP-PT-A1/secretary"], "Võ Thị Mai")
    await joined(tg_member, codes["AP-PT-A1/member"], "Lê Văn Nam")
    await joined(zalo_member, codes["AP-PT-A1/member"], "Trần Thị Bình")
    return secretary, tg_member, zalo_member


async def schedule_monthly(secretary: Chat) -> str:
    await secretary.says("/lichsinhhoat")
    await secretary.presses("hằng tháng")
    out = await secretary.says("thu bay tuan cuoi")
    assert "Mấy giờ" in texts(out)
    out = await secretary.says("25h")
    assert "Giờ chưa đúng" in texts(out)  # not understood: asked again, nothing lost
    await secretary.says("7h30 tối")
    await secretary.says("Nhà văn hóa ấp 1")
    out = await secretary.presses("Bỏ qua")
    assert "Thứ Bảy tuần cuối" in texts(out) and "19:30" in texts(out)
    out = await secretary.presses("Lưu")
    return texts(out)


async def test_secretary_schedules_and_everyone_is_reminded_once(
    app: App, clock: MovableClock
) -> None:
    secretary, tg_member, zalo_member = await branch(app, clock)
    saved = await schedule_monthly(secretary)
    assert "19:30 28/11/2026" in saved and "19:30 26/12/2026" in saved
    for chat in (secretary, tg_member, zalo_member):
        new(chat)

    clock.now = datetime(2026, 11, 25, 12, 31, tzinfo=UTC)  # 3 days before, 19:31 local
    await tick(app, clock)
    prep = new(secretary)
    assert len(prep) == 1 and "Nhắc chuẩn bị" in prep[0].text
    assert new(tg_member) == [] and new(zalo_member) == []

    clock.now = datetime(2026, 11, 27, 12, 31, tzinfo=UTC)  # the day before
    await tick(app, clock)
    await tick(app, clock)  # a second tick (or a restarted leader) sends nothing more
    reminder = new(tg_member)
    assert len(reminder) == 1 and "Bạn có tham gia không?" in reminder[0].text
    assert [c.label for c in reminder[0].choices] == ["✅ Tham gia", "❌ Vắng", "🤔 Chưa chắc"]
    zalo_reminder = new(zalo_member)
    assert len(zalo_reminder) == 1 and '"vắng" (kèm lý do)' in texts(zalo_reminder)
    assert "1. " not in texts(zalo_reminder)  # no numbers: nothing to answer by number

    out = await tg_member.presses("Tham gia", on=reminder[0])
    assert "Đã ghi nhận: ✅ Tham gia buổi 19:30 28/11/2026" in texts(out)
    out = await zalo_member.says("vắng vì đi làm ca tối")
    assert "Đã ghi nhận: ❌ Vắng" in texts(out)
    async with unit_of_work(app.db) as uow:
        rsvps = {r.answer: r.reason for r in (await uow.session.exec(select(Rsvp))).all()}
    assert rsvps == {"yes": None, "no": "vì đi làm ca tối"}


async def test_reminders_wait_out_quiet_hours(app: App, clock: MovableClock) -> None:
    secretary, tg_member, _ = await branch(app, clock)
    await secretary.says("/lichsinhhoat")
    await secretary.presses("buổi riêng")
    await secretary.says("24/11")
    await secretary.says("06:30")  # an early meeting: the 24 h reminder falls at 06:30 local
    await secretary.says("Hội trường xã")
    await secretary.presses("Bỏ qua")
    await secretary.presses("Lưu")
    new(tg_member)
    clock.now = datetime(2026, 11, 22, 23, 31, tzinfo=UTC)  # 06:31 local on 23/11: quiet
    await tick(app, clock)
    async with unit_of_work(app.db) as uow:
        rows = (
            await uow.session.exec(
                select(OutboxMessage).where(OutboxMessage.category == "reminder")
            )
        ).all()
    local = {r.not_before.astimezone(app.settings.tz).strftime("%H:%M") for r in rows}
    assert local == {"07:00"}
    assert new(tg_member) == []  # not before 07:00
    clock.now = datetime(2026, 11, 23, 0, 1, tzinfo=UTC)  # 07:01 local
    await app.sender.drain()
    assert len(new(tg_member)) == 1


async def test_check_in_by_code_and_by_secretary_then_summary(
    app: App, clock: MovableClock
) -> None:
    secretary, tg_member, zalo_member = await branch(app, clock)
    await schedule_monthly(secretary)
    clock.now = datetime(2026, 11, 28, 12, 35, tzinfo=UTC)  # the meeting has begun
    await tick(app, clock)
    for chat in (secretary, tg_member, zalo_member):
        new(chat)
    await secretary.says("/diemdanh")
    out = await secretary.presses("Mở điểm danh")
    code = re.search(r"Mã điểm danh: (\d{4})", texts(out))
    assert code is not None
    await app.sender.drain()
    notice = new(zalo_member)
    assert "có mặt <mã>" in texts(notice)
    out = await zalo_member.says("co mat 0000" if code.group(1) != "0000" else "co mat 1111")
    assert "Mã chưa đúng" in texts(out)
    out = await zalo_member.says(f"có mặt {code.group(1)}")
    assert "Đã điểm danh" in texts(out)
    out = await zalo_member.says(f"có mặt {code.group(1)}")
    assert "đã được điểm danh rồi" in texts(out)

    await secretary.presses("Đánh dấu")
    await secretary.presses("Võ Thị Mai")
    out = await secretary.presses("Xong")
    assert "Có mặt: 2/3" in texts(out)
    out = await secretary.presses("Kết thúc")
    assert "Có mặt: 2/3 (67%)" in texts(out) and "• Lê Văn Nam" in texts(out)

    clock.now = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
    await tick(app, clock)
    summary = texts(new(secretary))
    assert "Tổng hợp sau buổi sinh hoạt" in summary and "Lê Văn Nam" in summary


async def test_two_absences_in_a_row_are_flagged(app: App, clock: MovableClock) -> None:
    secretary, _, _ = await branch(app, clock)
    await schedule_monthly(secretary)
    for month_end in (
        datetime(2026, 11, 28, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 26, 16, 0, tzinfo=UTC),
    ):
        clock.now = month_end
        await tick(app, clock)
    summaries = [o.text for o in new(secretary) if "Tổng hợp" in o.text]
    assert len(summaries) == 2
    assert "vắng 2 buổi liên tiếp" not in summaries[0]
    assert "⚠️ Lê Văn Nam đã vắng 2 buổi liên tiếp" in summaries[1]


async def test_moving_a_meeting_tells_members_and_bad_dates_are_refused(
    app: App, clock: MovableClock
) -> None:
    secretary, tg_member, _ = await branch(app, clock)
    await schedule_monthly(secretary)
    new(tg_member)
    await secretary.says("/lichsinhhoat")
    await secretary.presses("Dời hoặc hủy")
    await secretary.presses("28/11/2026")
    await secretary.presses("Dời sang")
    out = await secretary.says("32/13")
    assert "Ngày chưa đúng" in texts(out)
    await secretary.says("29/11")
    out = await secretary.says("08:00")
    assert "sang 08:00 29/11/2026" in texts(out)
    await app.sender.drain()
    assert "được dời sang 08:00 29/11/2026" in texts(new(tg_member))
    async with unit_of_work(app.db) as uow:
        meeting = (await uow.session.exec(select(Meeting).order_by(Meeting.starts_at))).first()
        assert meeting is not None and meeting.version == 2


async def test_report_rolls_up_and_unmet_branches_are_flagged(
    app: App, clock: MovableClock
) -> None:
    secretary, _, _ = await branch(app, clock)
    await schedule_monthly(secretary)
    clock.now = datetime(2026, 11, 28, 12, 40, tzinfo=UTC)
    await secretary.says("/diemdanh")
    await secretary.presses("Đánh dấu")
    await secretary.presses("Lê Văn Nam")
    await secretary.presses("Xong")
    standing = Chat(app, app.channels["zalo"], "zs_1")  # type: ignore[arg-type]
    async with unit_of_work(app.db) as uow:
        invites = await seed_sample_province(uow, clock())
        await uow.commit()
    code = next(i.code for i in invites if i.unit_code == "AP" and i.role == "standing")
    await joined(standing, code, "Phạm Văn Đức")  # the province's standing committee

    clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09:00 local on 1 December
    await standing.says("/baocaosinhhoat")
    out = await standing.presses("11/2026")
    report = texts(out)
    assert "Tỉnh đoàn An Phú – tháng 11/2026" in report
    assert "Chi đoàn đã sinh hoạt: 1/4" in report
    assert "• Chi đoàn ấp 1: 1 buổi, tham dự 33%" in report
    assert "Chưa sinh hoạt: Chi đoàn ấp 2, Chi đoàn 12A1, Chi đoàn cơ quan Tỉnh đoàn" in report

    from scheduler.meetings import flag_unmet_branches

    assert await flag_unmet_branches(app.db, app.settings, clock) == 1
    assert await flag_unmet_branches(app.db, app.settings, clock) == 0
    await app.sender.drain()
    # the province leads the office branch directly; communes hear about their own
    assert "chưa sinh hoạt: Chi đoàn cơ quan Tỉnh đoàn" in texts(new(standing))


async def test_muted_member_gets_no_reminder_but_hears_of_a_move(
    app: App, clock: MovableClock
) -> None:
    secretary, tg_member, zalo_member = await branch(app, clock)
    await zalo_member.says("/dulieucuatoi")
    out = await zalo_member.says("tat nhac lich")
    assert "Đã tắt nhắc lịch" in texts(out)
    await schedule_monthly(secretary)
    new(zalo_member), new(tg_member)
    clock.now = datetime(2026, 11, 27, 12, 31, tzinfo=UTC)
    await tick(app, clock)
    assert len(new(tg_member)) == 1
    assert new(zalo_member) == []
    await secretary.says("/lichsinhhoat")
    await secretary.presses("Dời hoặc hủy")
    await secretary.presses("28/11/2026")
    await secretary.presses("Hủy buổi này")
    await app.sender.drain()
    assert "đã được hủy" in texts(new(zalo_member))


async def test_a_zalo_secretary_schedules_by_numbers_and_words(
    app: App, clock: MovableClock
) -> None:
    codes = await seed(app, clock)
    secretary = Chat(app, app.channels["zalo"], "zs_secretary")  # type: ignore[arg-type]
    await joined(secretary, codes["AP-PT-A2/member"], "Ngô Thị Hạnh")
    async with unit_of_work(app.db) as uow:
        invites = await seed_sample_province(uow, clock())
        await uow.commit()
    code = next(i.code for i in invites if i.unit_code == "AP-PT-A1" and i.role == "secretary")
    await secretary.says(code)
    await secretary.says("1")  # accept the new role
    out = await secretary.says("lich sinh hoat")
    assert "Lịch sinh hoạt Chi đoàn ấp 1" in texts(out)  # the one unit she leads
    assert "1. Đặt lịch hằng tháng" in texts(out)
    await secretary.says("1")
    out = await secretary.says("ngay 32")
    assert "chưa hiểu ngày này" in texts(out)
    await secretary.says("ngay 25")
    await secretary.says("19h")
    await secretary.says("https://meet.google.com/abc-defg-hij")
    out = await secretary.says("bo qua")
    assert "🔁 Hằng tháng: ngày 25" in texts(out) and "https://meet.google.com" in texts(out)
    out = await secretary.says("luu")
    assert "• 19:00 25/11/2026" in texts(out) and "• 19:00 25/12/2026" in texts(out)
