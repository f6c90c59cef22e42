""" "1+2" duty, exemptions, quarterly plans, pace and the jobs, in process on both channels.

The clock starts on Sunday 22/11/2026 at 10:00 in Hồ Chí Minh City (quarter 4; day 326
of a counting year from January, so about 53 of 60 days are due by then). Days at
the grassroots are inserted as rows: logging them by chat is another flow's job.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from bot.app import App
from bot.clock import Clock
from bot.config import Settings
from bot.messages import Outgoing
from scheduler.field_jobs import nudge_behind_pace, remind_trip_reports, request_quarterly_plans
from storage.db import Database
from storage.models import (
    AuditEntry,
    FieldCadre,
    FieldVisit,
    FieldVisitDay,
    PlanStatus,
    ThematicTrip,
    VisitExemption,
    VisitKind,
    VisitPlan,
)
from storage.uow import unit_of_work
from tests.support import Chat, MovableClock, texts
from tests.test_flows import joined
from tests.test_join_flow import seed


def fresh(chat: Chat) -> str:
    """What reached this chat since it was last read (proactive messages included)."""
    return texts(fresh_outs(chat))


def fresh_outs(chat: Chat) -> list[Outgoing]:
    mine = [o for o in chat.channel.delivered if o.chat_id == chat.chat_id]
    new, chat.seen = mine[chat.seen :], len(mine)
    return new


async def person_id(app: App, chat: Chat) -> int:
    async with unit_of_work(app.db) as uow:
        identity = await uow.people.identity(chat.channel.channel.value, chat.user_id)
        assert identity is not None
        return identity.person_id


async def rows(app: App, model: type) -> list:
    async with unit_of_work(app.db) as uow:
        return list((await uow.session.exec(select(model))).all())


async def people(app: App, clock: MovableClock) -> dict[str, Chat]:
    """Two committee members (Telegram, Zalo) and three cadres (Telegram, Zalo, Zalo)."""
    codes = await seed(app, clock)
    chats = {
        "committee_tg": Chat(app, app.channels["telegram"], "7101"),  # type: ignore[arg-type]
        "committee_zl": Chat(app, app.channels["zalo"], "zs_7102"),  # type: ignore[arg-type]
        "cadre_tg": Chat(app, app.channels["telegram"], "7103"),  # type: ignore[arg-type]
        "cadre_zl": Chat(app, app.channels["zalo"], "zc_7104"),  # type: ignore[arg-type]
        "cadre_zl2": Chat(app, app.channels["zalo"], "zc_7105"),  # type: ignore[arg-type]
    }
    names = {
        "committee_tg": ("AP/standing", "Phạm Minh Tuấn"),
        "committee_zl": ("AP/standing", "Ngô Thị Lan"),
        "cadre_tg": ("AP-CQ/cadre", "Lê Văn Nam"),
        "cadre_zl": ("AP-CQ/cadre", "Trần Thị Bình"),
        "cadre_zl2": ("AP-CQ/cadre", "Đỗ Văn Hùng"),
    }
    for key, (invite, name) in names.items():
        await joined(chats[key], codes[invite], name)
        fresh(chats[key])
    return chats


async def enrol(app: App, clock: MovableClock, *chats: Chat) -> list[int]:
    """Put cadres straight on the register (the chat way is tested on its own)."""
    ids = []
    async with unit_of_work(app.db) as uow:
        unit = await uow.units.by_code("AP-CQ")
        assert unit is not None and unit.id is not None
        for chat in chats:
            identity = await uow.people.identity(chat.channel.channel.value, chat.user_id)
            assert identity is not None
            await uow.plans.enrol(identity.person_id, unit.id, by=None, now=clock())
            ids.append(identity.person_id)
        await uow.commit()
    return ids


async def give_days(app: App, pid: int, first: date, count: int) -> None:
    """``count`` counted days at the grassroots from ``first`` on, as one entry."""
    days = [first + timedelta(days=n) for n in range(count)]
    async with unit_of_work(app.db) as uow:
        visit = FieldVisit(
            person_id=pid, kind=VisitKind.ACTIVITY, first_day=days[0], last_day=days[-1]
        )
        uow.session.add(visit)
        await uow.session.flush()
        assert visit.id is not None
        for day in days:
            uow.session.add(FieldVisitDay(visit_id=visit.id, day=day, person_id=pid))
        await uow.commit()


async def exempt(app: App, pid: int, first: date, last: date | None = None) -> None:
    async with unit_of_work(app.db) as uow:
        await uow.plans.add_exemption(
            VisitExemption(person_id=pid, reason="long_service", starts_on=first, ends_on=last)
        )
        await uow.commit()


Job = Callable[[Database, Settings, Clock], Awaitable[int]]


async def tick(app: App, job: Job, clock: MovableClock) -> int:
    """One run of a scheduler job, and whatever it queued delivered."""
    sent = await job(app.db, app.settings, clock)
    await app.sender.drain()
    return sent


# --- who must, who is exempt ---------------------------------------------------------------


async def test_committee_marks_a_cadre_and_records_an_exemption(
    app: App, clock: MovableClock
) -> None:
    chats = await people(app, clock)
    tg, zl = chats["committee_tg"], chats["committee_zl"]
    out = await tg.says("/canbo12")
    assert "chưa vào diện 1+2" in texts(out) and "0/3 người" in texts(out)
    await tg.presses("Đưa vào diện")
    out = await tg.presses("Lê Văn Nam")
    assert "Đã đưa Lê Văn Nam vào diện" in texts(out)
    told = fresh(chats["cadre_tg"])
    assert "đưa bạn vào diện" in told and "60 ngày" in told and "22/11/2026" in told

    # On Zalo by words: the reason, "from today" by its number, an end date typed.
    out = await zl.says("can bo 1+2")
    assert "1/3 người" in texts(out) and "Lê Văn Nam" in texts(out)
    out = await zl.says("ghi mien")
    assert "Trần Thị Bình" in texts(out)
    out = await zl.says("tran thi binh")
    assert "Bệnh nặng" in texts(out)
    await zl.says("benh nang")
    out = await zl.says("31/2")  # no such day: refused, asked again
    assert "chưa hiểu ngày" in texts(out) and "Từ hôm nay (22/11/2026)" in texts(out)
    out = await zl.says("01/11")  # without a year: the nearest 1 November
    assert "đến hết ngày nào (từ 01/11/2026)" in texts(out)
    out = await zl.says("20/10/2026")  # before the first day: refused, asked again
    assert "từ 01/11/2026 trở đi" in texts(out)
    out = await zl.says("31/12/2026")
    assert "Đã ghi miễn cho Trần Thị Bình" in texts(out)
    assert "từ 01/11/2026 đến 31/12/2026" in fresh(chats["cadre_zl"])

    [exemption] = await rows(app, VisitExemption)
    assert (exemption.reason, exemption.ends_on) == ("serious_illness", date(2026, 12, 31))
    register = {c.person_id: c.active for c in await rows(app, FieldCadre)}
    assert register == {
        await person_id(app, chats["cadre_tg"]): True,
        await person_id(app, chats["cadre_zl"]): True,  # exempt, still counted
    }
    actions = [a.action for a in await rows(app, AuditEntry)]
    assert "fieldplan.enrolled" in actions and "fieldplan.exempted" in actions

    out = await tg.says("/canbo12")
    assert "miễn, Bệnh nặng" in texts(out) and "1/3 người" in texts(out)
    await tg.presses("Kết thúc miễn")
    out = await tg.presses("Trần Thị Bình")
    assert "Đã kết thúc miễn" in texts(out)
    assert "lại thuộc diện" in fresh(chats["cadre_zl"])
    [ended] = await rows(app, VisitExemption)
    assert ended.ends_on == date(2026, 11, 21)  # under 1+2 again from today


async def test_a_member_may_not_use_the_committee_desk(app: App, clock: MovableClock) -> None:
    chats = await people(app, clock)
    out = await chats["cadre_zl"].says("can bo 1+2")
    assert "chỉ dành cho" in texts(out)
    out = await chats["cadre_zl"].says("ke hoach")
    assert "chưa có tên trong danh sách" in texts(out)


# --- quarterly plans -----------------------------------------------------------------------


async def test_telegram_plan_returned_resubmitted_and_approved_with_buttons(
    app: App, clock: MovableClock
) -> None:
    chats = await people(app, clock)
    cadre, committee = chats["cadre_tg"], chats["committee_tg"]
    [pid] = await enrol(app, clock, cadre)
    await give_days(app, pid, date(2026, 10, 5), 3)

    out = await cadre.says("/kehoach")
    assert "Quý 4/2026: chưa đăng ký kế hoạch; đã đi 3 ngày" in texts(out)
    out = await cadre.says("200")  # more days than the quarter has: refused, state kept
    assert "từ 1 đến 92" in texts(out) and "bao nhiêu ngày" in texts(out)
    await cadre.says("12 ngày")
    await cadre.says("1")
    await cadre.presses("Bỏ qua")
    out = await cadre.presses("Gửi duyệt")
    assert "Đã gửi kế hoạch quý 4/2026" in texts(out)

    request = fresh(committee)
    assert "Lê Văn Nam" in request and "12 ngày, 1 đợt" in request and "3 ngày" in request
    await committee.presses("Trả lại")
    out = await committee.says("Thiếu đợt chuyên đề thứ hai")
    assert "Đã trả lại kế hoạch quý 4/2026 của Lê Văn Nam" in texts(out)
    told = fresh(cadre)
    assert "trả lại" in told and "Thiếu đợt chuyên đề thứ hai" in told
    [plan] = await rows(app, VisitPlan)
    assert plan.status == PlanStatus.RETURNED

    out = await cadre.presses("Sửa kế hoạch")  # the button on the returned notice
    assert "bị trả lại" in texts(out) and "Thiếu đợt chuyên đề" in texts(out)
    await cadre.presses("Sửa kế hoạch")
    await cadre.says("14")
    await cadre.says("hai")
    await cadre.says("Xã Phú Thịnh, chuyên đề chuyển đổi số")
    await cadre.presses("Gửi duyệt")
    assert "14 ngày, 2 đợt" in fresh(committee)
    out = await committee.presses("Duyệt")
    assert "Đã duyệt kế hoạch quý 4/2026 của Lê Văn Nam" in texts(out)
    assert "đã được Phạm Minh Tuấn duyệt" in fresh(cadre)
    [plan] = await rows(app, VisitPlan)
    assert (plan.status, plan.planned_days, plan.planned_trips) == (PlanStatus.APPROVED, 14, 2)
    out = await committee.presses("Trả lại")  # an old request: already decided
    assert any("đã được duyệt rồi" in o.text for o in out)

    # Plan versus actual, for the committee and for the cadre.
    out = await committee.says("/canbo12")
    assert "kế hoạch 14 ngày, 2 đợt chuyên đề (đã duyệt); đã đi 3 ngày" in texts(out)
    out = await cadre.says("/kehoach")
    assert "kế hoạch 14 ngày" in texts(out) and "đã đi 3 ngày" in texts(out)
    actions = [a.action for a in await rows(app, AuditEntry) if a.action.startswith("fieldplan")]
    assert actions.count("fieldplan.submitted") == 2 and "fieldplan.returned" in actions


async def test_zalo_plan_returned_resubmitted_and_approved_by_words(
    app: App, clock: MovableClock
) -> None:
    chats = await people(app, clock)
    cadre, committee = chats["cadre_zl"], chats["committee_zl"]
    [pid] = await enrol(app, clock, cadre)
    await give_days(app, pid, date(2026, 11, 2), 5)
    await cadre.says("ke hoach di co so")
    out = await cadre.says("mười lăm")
    assert "mấy đợt chuyên đề" in texts(out)
    out = await cadre.says("nhiều")  # not a number: refused, asked again
    assert "chưa hiểu số đợt" in texts(out)
    await cadre.says("1")
    await cadre.says("Ấp 1, ấp 2 xã Phú Thịnh")
    await cadre.says("gui duyet")
    request = fresh(committee)
    assert "Trần Thị Bình" in request and "duyet ke hoach" in request  # words, no buttons
    [plan] = await rows(app, VisitPlan)

    out = await committee.says(f"tra lai ke hoach {plan.id} Cần thêm đợt chuyên đề")
    assert "Đã trả lại" in texts(out)
    assert "Cần thêm đợt chuyên đề" in fresh(cadre)
    out = await committee.says(f"duyet ke hoach {plan.id}")  # returned: nothing to approve
    assert "đã được trả lại rồi" in texts(out)

    out = await cadre.says("ke hoach")
    assert "bị trả lại" in texts(out)
    for text in ("sua ke hoach", "15", "2", "bo qua", "gui duyet"):
        await cadre.says(text)
    assert "15 ngày, 2 đợt" in fresh(committee)
    out = await committee.says("duyet ke hoach")  # no number: pick from those waiting
    assert "Trần Thị Bình – quý 4/2026: 15 ngày" in texts(out)
    await committee.says("1")
    out = await committee.says("duyet")
    assert "Đã duyệt" in texts(out)
    assert "duyệt" in fresh(cadre)
    [plan] = await rows(app, VisitPlan)
    assert (plan.status, plan.planned_days, plan.reason) == (PlanStatus.APPROVED, 15, None)
    out = await cadre.says("ke hoach")
    assert "đã đi 5 ngày" in texts(out) and "(đã duyệt)" in texts(out)


# --- pace ----------------------------------------------------------------------------------


async def test_pace_for_a_cadre_on_pace_one_behind_and_one_exempt(
    app: App, clock: MovableClock
) -> None:
    chats = await people(app, clock)
    ahead, behind, excused = chats["cadre_tg"], chats["cadre_zl"], chats["cadre_zl2"]
    ids = await enrol(app, clock, ahead, behind, excused)
    await give_days(app, ids[0], date(2026, 3, 1), 55)
    await give_days(app, ids[1], date(2026, 5, 4), 10)
    await exempt(app, ids[2], date(2026, 1, 1), date(2026, 12, 31))
    async with unit_of_work(app.db) as uow:
        uow.session.add(
            ThematicTrip(
                person_id=ids[0],
                theme="Chuyển đổi số",
                starts_on=date(2026, 3, 1),
                ends_on=date(2026, 3, 6),
            )
        )
        await uow.commit()

    out = texts(await ahead.says("/songay"))
    assert "55/60 ngày" in out and "Còn cần 5 ngày" in out and "Đúng tiến độ" in out
    assert "khoảng 53 ngày" in out and "1/2" in out and "Quý 4/2026" in out
    out = texts(await behind.says("minh da di bao nhieu ngay"))
    assert "10/60 ngày" in out and "Chậm 43 ngày" in out and "khoảng 53 ngày" in out
    out = texts(await excused.says("so ngay di co so"))
    assert "được miễn" in out and "đến 31/12/2026" in out and "/60" not in out


# --- jobs ----------------------------------------------------------------------------------


async def test_monthly_nudge_reaches_only_the_cadre_behind_pace(
    app: App, clock: MovableClock
) -> None:
    chats = await people(app, clock)
    ahead, behind, excused = chats["cadre_tg"], chats["cadre_zl"], chats["cadre_zl2"]
    ids = await enrol(app, clock, ahead, behind, excused)
    await give_days(app, ids[0], date(2026, 3, 1), 58)
    await give_days(app, ids[1], date(2026, 5, 4), 10)
    await exempt(app, ids[2], date(2026, 6, 1))

    assert await tick(app, nudge_behind_pace, clock) == 0  # the 22nd: not nudging days
    clock.now = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # 07:30 local: too early
    assert await tick(app, nudge_behind_pace, clock) == 0
    clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09:00 local on the 1st
    assert await tick(app, nudge_behind_pace, clock) == 1
    nudge = fresh(behind)
    assert "10/60 ngày" in nudge and "khoảng 55 ngày" in nudge and "còn 30 ngày" in nudge.lower()
    assert fresh(ahead) == "" and fresh(excused) == ""
    clock.advance(hours=3)
    assert await tick(app, nudge_behind_pace, clock) == 0  # a repeated tick: nothing more
    clock.advance(days=1)
    assert await tick(app, nudge_behind_pace, clock) == 0
    assert fresh(behind) == ""


async def test_quarterly_plan_request_once_to_cadres_without_a_plan(
    app: App, clock: MovableClock
) -> None:
    chats = await people(app, clock)
    asked, planned, excused = chats["cadre_tg"], chats["cadre_zl"], chats["cadre_zl2"]
    ids = await enrol(app, clock, asked, planned, excused)
    await exempt(app, ids[2], date(2026, 1, 1))
    async with unit_of_work(app.db) as uow:  # registered ahead of the quarter
        await uow.plans.submit(ids[1], 2027, 1, days=15, trips=1, note=None)
        await uow.commit()
    clock.now = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)  # 09:00 local, 2 January
    assert await tick(app, request_quarterly_plans, clock) == 1
    assert "Đầu quý 1/2027" in fresh(asked)
    assert fresh(planned) == "" and fresh(excused) == ""
    clock.advance(days=1)
    assert await tick(app, request_quarterly_plans, clock) == 0
    out = await asked.presses("Đăng ký kế hoạch", on=asked.last_question())
    assert "Quý 1/2027" in texts(out) and "bao nhiêu ngày" in texts(out)


async def test_trip_report_reminded_before_due_and_once_overdue_never_after_filing(
    app: App, clock: MovableClock
) -> None:
    chats = await people(app, clock)
    cadre = chats["cadre_zl"]
    [pid] = await enrol(app, clock, cadre)
    async with unit_of_work(app.db) as uow:
        late = ThematicTrip(
            person_id=pid,
            theme="Tâm tư thanh niên",
            starts_on=date(2026, 11, 9),
            ends_on=date(2026, 11, 15),
        )  # report due 25/11: three days from the 22nd
        filed = ThematicTrip(
            person_id=pid,
            theme="Khởi nghiệp",
            starts_on=date(2026, 11, 10),
            ends_on=date(2026, 11, 16),
        )  # report due 26/11
        uow.session.add_all([late, filed])
        await uow.commit()
        late_id, filed_id = late.id, filed.id

    assert await tick(app, remind_trip_reports, clock) == 1
    text = fresh(cadre)
    assert "Tâm tư thanh niên" in text and "25/11/2026" in text and "còn 3 ngày" in text
    assert await tick(app, remind_trip_reports, clock) == 0
    clock.advance(days=1)  # 23/11: the other trip is due in three days, but its report is in
    async with unit_of_work(app.db) as uow:
        trip = await uow.session.get(ThematicTrip, filed_id)
        assert trip is not None
        trip.report, trip.report_filed_at = "Đã khảo sát 40 thanh niên", clock()
        uow.session.add(trip)
        await uow.commit()
    assert await tick(app, remind_trip_reports, clock) == 0
    clock.advance(days=3)  # 26/11: the first report is overdue
    assert await tick(app, remind_trip_reports, clock) == 1
    assert "quá hạn" in fresh(cadre)
    for _ in range(3):
        clock.advance(days=1)
        assert await tick(app, remind_trip_reports, clock) == 0
    assert fresh(cadre) == ""
    async with unit_of_work(app.db) as uow:
        trip = await uow.session.get(ThematicTrip, late_id)
        assert trip is not None and sorted(trip.reminders_done) == ["due", "overdue"]


async def test_an_old_approve_button_cannot_approve_a_plan_changed_since(
    app: App, clock: MovableClock
) -> None:
    chats = await people(app, clock)
    cadre, committee = chats["cadre_tg"], chats["committee_tg"]
    await enrol(app, clock, cadre)
    await cadre.says("/kehoach")
    await cadre.says("12")
    await cadre.says("1")
    await cadre.presses("Bỏ qua")
    await cadre.presses("Gửi duyệt")
    assert "12 ngày, 1 đợt" in fresh(committee)
    first_request = committee.last_question()

    # The cadre changes the plan before the committee has decided.
    await cadre.says("/kehoach")
    await cadre.presses("Sửa kế hoạch")
    await cadre.says("15")
    await cadre.says("2")
    await cadre.presses("Bỏ qua")
    await cadre.presses("Gửi duyệt")
    assert "15 ngày, 2 đợt" in fresh(committee)
    second_request = committee.last_question()

    out = await committee.presses("Duyệt", on=first_request)
    assert "đã sửa kế hoạch" in texts(out)
    [plan] = await rows(app, VisitPlan)
    assert plan.status == PlanStatus.SUBMITTED and plan.revision == 2
    out = await committee.presses("Duyệt", on=second_request)
    assert "Đã duyệt kế hoạch" in texts(out)
    [plan] = await rows(app, VisitPlan)
    assert (plan.status, plan.planned_days) == (PlanStatus.APPROVED, 15)
