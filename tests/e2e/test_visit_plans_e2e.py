""" "1+2" plans and the monthly nudge through the real bot process and both fake servers.

A cadre on Zalo sends a quarterly plan by words; the standing committee on Telegram
returns it with a reason (buttons), then approves the plan sent again. Then the
bot's clock is moved to the 1st of a month in the morning: of two cadres only the
one behind pace is nudged.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.sandbox.fake_zalo import FakeZalo
from storage.db import Database
from storage.models import (
    FieldVisit,
    FieldVisitDay,
    PlanStatus,
    VisitExemption,
    VisitKind,
    VisitPlan,
)
from storage.uow import unit_of_work
from tests.e2e.conftest import Sandbox
from tests.e2e.test_meetings_e2e import join_telegram, join_zalo
from tests.e2e.test_polls_e2e import TZ, expect, morning, nothing_new, presses, rows, says, seen

pytestmark = [pytest.mark.e2e, pytest.mark.single_backend]


async def open_plan(zl: FakeZalo, user: str) -> str:
    """ "ke hoach"; near a quarter's end the bot first asks which quarter: this one."""
    text = await says(zl, user, "ke hoach", "bao nhiêu ngày|quý nào|muốn sửa")
    if re.search("quý nào", text):
        text = await says(zl, user, "1", "bao nhiêu ngày|muốn sửa")
    return text


async def test_zalo_plan_returned_and_approved_by_the_committee_on_telegram(
    sandbox: Sandbox,
) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    sandbox.move_clock_to(morning())
    await join_telegram(sandbox, 901, sandbox.codes["AP/standing"], "Phạm Minh Tuấn")
    await join_zalo(sandbox, "zc_902", sandbox.codes["AP-CQ/cadre"], "Trần Thị Bình")

    # The committee puts the cadre under 1+2; the cadre hears of it on Zalo.
    await says(tg, 901, "/canbo12", "chưa vào diện 1\\+2")
    await presses(tg, 901, "Đưa vào diện", "Đưa ai vào diện")
    await presses(tg, 901, "Trần Thị Bình", "Đã đưa Trần Thị Bình")
    await expect(zl, "zc_902", "đưa bạn vào diện")

    # The cadre plans by words; a number out of range is refused and asked again.
    await open_plan(zl, "zc_902")
    await says(zl, "zc_902", "500", "Bạn gõ một số từ 1 đến")
    await says(zl, "zc_902", "10", "mấy đợt chuyên đề")
    await says(zl, "zc_902", "1", "Ghi chú ngắn")
    await says(zl, "zc_902", "bo qua", "Gửi Ban Thường vụ duyệt")
    await says(zl, "zc_902", "gui duyet", "Đã gửi kế hoạch")

    # Returned on Telegram with the button and a reason; the cadre sees the reason.
    request = await expect(tg, 901, "Kế hoạch đi cơ sở quý")
    assert "Trần Thị Bình" in request and "10 ngày, 1 đợt" in request
    after = seen(zl, "zc_902")
    await presses(tg, 901, "Trả lại", "Vì sao trả lại")
    await says(tg, 901, "Cần đủ 2 đợt chuyên đề", "Đã trả lại kế hoạch")
    told = await expect(zl, "zc_902", "trả lại", after=after)
    assert "Cần đủ 2 đợt chuyên đề" in told and "ke hoach" in told  # how to answer, in words

    # Changed and sent again; approved on Telegram.
    text = await open_plan(zl, "zc_902")
    assert "bị trả lại" in text
    await says(zl, "zc_902", "sua ke hoach", "bao nhiêu ngày")
    await says(zl, "zc_902", "12", "mấy đợt chuyên đề")
    await says(zl, "zc_902", "2", "Ghi chú ngắn")
    await says(zl, "zc_902", "Ấp 1 và ấp 2", "Gửi Ban Thường vụ duyệt")
    after_tg = seen(tg, 901)
    await says(zl, "zc_902", "gui duyet", "Đã gửi kế hoạch")
    await expect(tg, 901, "12 ngày, 2 đợt", after=after_tg)
    after = seen(zl, "zc_902")
    await presses(tg, 901, "Duyệt", "Đã duyệt kế hoạch")
    await expect(zl, "zc_902", "đã được Phạm Minh Tuấn duyệt", after=after)
    [plan] = await rows(sandbox.database_url, VisitPlan)
    assert (plan.status, plan.planned_days, plan.planned_trips) == (PlanStatus.APPROVED, 12, 2)

    # Later the committee records an exemption with buttons; the cadre is told on Zalo.
    await says(tg, 901, "/canbo12", "Trần Thị Bình")
    await presses(tg, 901, "Ghi miễn", "Ghi miễn cho ai")
    await presses(tg, 901, "Trần Thị Bình", "Lý do miễn")
    await presses(tg, 901, "Trên 20 năm", "Miễn từ ngày nào")
    await presses(tg, 901, "Từ hôm nay", "Miễn đến hết ngày nào")
    after = seen(zl, "zc_902")
    await presses(tg, 901, "Không thời hạn", "Đã ghi miễn cho Trần Thị Bình")
    await expect(zl, "zc_902", "đã ghi miễn đi cơ sở", after=after)
    [exemption] = await rows(sandbox.database_url, VisitExemption)
    assert (exemption.reason, exemption.ends_on) == ("long_service", None)


def next_nudge_day() -> datetime:
    """09:00 local on the next 1st of a month that is not January (on 1 January nobody
    can be behind yet)."""
    local = datetime.now(UTC).astimezone(TZ)
    first = (local.replace(day=1) + timedelta(days=32)).replace(day=1)
    if first.month == 1:
        first = first.replace(month=2)
    return first.replace(hour=9, minute=0, second=0, microsecond=0).astimezone(UTC)


async def put_on_register(url: str, accounts: list[tuple[str, str]], days: dict[str, int]) -> None:
    """Cadres straight on the register, with counted days from 1 January on."""
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            unit = await uow.units.by_code("AP-CQ")
            assert unit is not None and unit.id is not None
            for platform_id, channel in accounts:
                identity = await uow.people.identity(channel, platform_id)
                assert identity is not None
                pid = identity.person_id
                await uow.plans.enrol(pid, unit.id, by=None, now=datetime.now(UTC))
                count = days.get(platform_id, 0)
                if not count:
                    continue
                year = next_nudge_day().astimezone(TZ).year
                first = date(year, 1, 1)
                visit = FieldVisit(
                    person_id=pid,
                    kind=VisitKind.ACTIVITY,
                    first_day=first,
                    last_day=first + timedelta(days=count - 1),
                )
                uow.session.add(visit)
                await uow.session.flush()
                assert visit.id is not None
                for n in range(count):
                    day = first + timedelta(days=n)
                    uow.session.add(FieldVisitDay(visit_id=visit.id, day=day, person_id=pid))
            await uow.commit()
    finally:
        await db.dispose()


async def test_monthly_nudge_reaches_only_the_cadre_behind_pace(sandbox: Sandbox) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    nudge_day = next_nudge_day()
    await join_telegram(sandbox, 911, sandbox.codes["AP-CQ/cadre"], "Lê Văn Nam")
    await join_zalo(sandbox, "zc_912", sandbox.codes["AP-CQ/cadre"], "Đỗ Văn Hùng")
    # Ten days before the nudge day, well outside any month's nudge days (whatever today
    # is), before they go on the register: no nudge can come early.
    sandbox.move_clock_to(nudge_day - timedelta(days=10))
    local_day = nudge_day.astimezone(TZ).date()
    # Every day from 1 January to the day before (at most 60): always on pace.
    ahead = min(60, (local_day - date(local_day.year, 1, 1)).days)
    await put_on_register(
        sandbox.database_url, [("911", "telegram"), ("zc_912", "zalo")], {"911": ahead}
    )
    marks = {911: seen(tg, 911), "zc_912": seen(zl, "zc_912")}

    sandbox.move_clock_to(nudge_day)
    nudge = await expect(zl, "zc_912", "Nhắc đi cơ sở", after=marks["zc_912"])
    assert "0/60 ngày" in nudge and "/songay" in nudge
    await nothing_new(tg, 911, "Nhắc đi cơ sở", marks[911])
    sandbox.move_clock_to(nudge_day + timedelta(hours=2))  # later ticks: nothing more
    await nothing_new(zl, "zc_912", "Nhắc đi cơ sở", seen(zl, "zc_912"))
