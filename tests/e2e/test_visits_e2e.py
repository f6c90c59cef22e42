""" "1+2" through the real bot process, against the fake Telegram and Zalo servers.

A Telegram cadre logs a range of days with buttons; a Zalo cadre logs "hôm qua" (after
"32/13" is refused) with a photo as evidence; a thematic trip is started, ended and
reported on Telegram. The bot's clock is moved to the middle of next year, at daytime
in Vietnam, so "today" is fixed whatever day the test runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from storage.models import FieldVisit, FieldVisitDay, ThematicTrip, VisitStatus
from tests.e2e.conftest import Sandbox
from tests.e2e.test_meetings_e2e import join_telegram, join_zalo
from tests.e2e.test_polls_e2e import expect, presses, rows, says, seen

pytestmark = pytest.mark.e2e
YEAR = datetime.now(UTC).year + 1  # always ahead: the clock only moves forward


@pytest.mark.single_backend
async def test_cadres_log_days_on_telegram_and_zalo(sandbox: Sandbox) -> None:
    tg, zl, codes = sandbox.telegram, sandbox.zalo, sandbox.codes
    await join_telegram(sandbox, 921, codes["AP-CQ/cadre"], "Phạm Minh Tuấn")
    await join_zalo(sandbox, "zc_922", codes["AP-CQ/cadre"], "Lý Thu Hà")
    sandbox.move_clock_to(datetime(YEAR, 6, 17, 3, 0, tzinfo=UTC))  # 10:00 in Vietnam

    await says(tg, 921, "/dicoso", "đơn vị nào")
    await says(tg, 921, "phu thinh", "những ngày nào")
    await says(tg, 921, "10/06-12/06", "việc gì")
    await presses(tg, 921, "Phối hợp", "Bạn đã làm gì")
    await says(tg, 921, "Phối hợp tổ chức ngày hội việc làm", "Minh chứng")
    summary = await presses(tg, 921, "Bỏ qua", "Xem lại")
    assert "10/06–12/06 (3 ngày)" in summary
    reply = await presses(tg, 921, "Lưu", "Đã ghi 3 ngày")
    assert "Năm nay: 3/60 ngày" in reply

    user = "zc_922"
    await says(zl, user, "di co so", "đơn vị nào")
    await says(zl, user, "phu thinh", "những ngày nào")
    refusal = await says(zl, user, "32/13", "không có trên lịch")
    assert "32/13" in refusal
    await expect(zl, user, "những ngày nào", after=seen(zl, user) - 1)  # asked again
    await says(zl, user, "hôm qua", "việc gì")
    await says(zl, user, "4", "Bạn đã làm gì")
    await says(zl, user, "Dự sinh hoạt chi đoàn ấp 1", "Minh chứng")
    after = seen(zl, user)
    zl.user_sends_photo(user, "https://photo.sandbox.zalo.invalid/u/sinh-hoat.jpg")
    await expect(zl, user, "📷 1 ảnh", after=after)
    reply = await says(zl, user, "1", "Đã ghi 1 ngày")
    assert "16/06" in reply and "Năm nay: 1/60 ngày" in reply

    # Nonsense, a future day, then a range over a day already logged: counted once.
    await says(zl, user, "di co so", "đơn vị nào")
    await says(zl, user, "phu thinh", "những ngày nào")
    await says(zl, user, "ngày mai nữa", "chưa hiểu")
    refusal = await says(zl, user, "ngày mai", "Chưa ghi được ngày chưa đến")
    assert "18/06" in refusal
    after = seen(zl, user)
    await says(zl, user, "15/06-17/06", "việc gì")
    already = await expect(zl, user, "đã ghi trước đó", after=after)
    assert "16/06" in already
    await says(zl, user, "4", "Bạn đã làm gì")
    await says(zl, user, "Dự họp BCH Đoàn xã", "Minh chứng")
    await says(zl, user, "bo qua", "Xem lại")
    reply = await says(zl, user, "1", "Đã ghi 2 ngày")
    assert "Năm nay: 3/60 ngày" in reply

    visits = sorted(await rows(sandbox.database_url, FieldVisit), key=lambda v: v.id)
    assert [v.status for v in visits] == [VisitStatus.COUNTED] * 3
    assert visits[1].photo_ref == "https://photo.sandbox.zalo.invalid/u/sinh-hoat.jpg"
    days = sorted(d.day for d in await rows(sandbox.database_url, FieldVisitDay))
    assert days == [date(YEAR, 6, d) for d in (10, 11, 12, 15, 16, 17)]


@pytest.mark.single_backend
async def test_thematic_trip_started_ended_and_reported_on_telegram(sandbox: Sandbox) -> None:
    tg = sandbox.telegram
    await join_telegram(sandbox, 931, sandbox.codes["AP-CQ/cadre"], "Phạm Minh Tuấn")
    sandbox.move_clock_to(datetime(YEAR, 6, 10, 2, 0, tzinfo=UTC))  # 09:00 in Vietnam

    await says(tg, 931, "/dotchuyende", "Chủ đề")
    await says(tg, 931, "Chuyển đổi số trong công tác Đoàn", "đơn vị nào")
    await says(tg, 931, "phu thinh", "bắt đầu ngày nào")
    await presses(tg, 931, "Hôm nay", f"Từ ngày: 10/06/{YEAR}")
    await presses(tg, 931, "Bắt đầu", "Đã bắt đầu đợt")

    sandbox.move_clock_to(datetime(YEAR, 6, 14, 10, 0, tzinfo=UTC))  # 17:00, four days on
    await says(tg, 931, "/dotchuyende", "đang trong đợt")
    await presses(tg, 931, "Kết thúc đợt", "kết thúc ngày nào")
    await presses(tg, 931, "Hôm nay", r"10/06–14/06 \(5 ngày\)")
    reply = await presses(tg, 931, "Kết thúc đợt", "Đã kết thúc đợt")
    assert "Đã ghi 5 ngày" in reply and "Năm nay: 5/60 ngày" in reply
    assert f"Hạn nộp báo cáo đợt: 24/06/{YEAR}" in reply

    # Three days before the report is due, the cadre is reminded (once).
    sandbox.move_clock_to(datetime(YEAR, 6, 21, 2, 0, tzinfo=UTC))  # 09:00 on 21/06
    await expect(tg, 931, "Nhắc báo cáo đợt chuyên đề", after=seen(tg, 931))

    await says(tg, 931, "/baocaodot", "Báo cáo đợt")
    reply = await says(tg, 931, "Khảo sát 120 thanh niên, tập huấn cho 6 chi đoàn.", "Đã nộp")
    assert "Đúng hạn" in reply
    [trip] = await rows(sandbox.database_url, ThematicTrip)
    assert (trip.starts_on, trip.ends_on) == (date(YEAR, 6, 10), date(YEAR, 6, 14))
    assert trip.report and trip.report_filed_at is not None
    [visit] = await rows(sandbox.database_url, FieldVisit)
    assert visit.trip_id == trip.id and visit.kind == "trip"
