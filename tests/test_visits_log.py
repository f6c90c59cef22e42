""" "1+2" in process: cadres log grassroots days, trips, corrections; the committee approves.

The clock stands at 10:00 on Sunday 22/11/2026 in Vietnam (see ``MovableClock``):
"hôm qua" is 21/11, and with the default rules a day before 12/11 is logged late.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import event
from sqlmodel import select

from bot.app import App
from bot.messages import Outgoing
from storage.models import (
    AuditEntry,
    FieldCadre,
    FieldVisit,
    FieldVisitDay,
    Person,
    ThematicTrip,
    VisitStatus,
)
from storage.uow import unit_of_work
from tests.support import Chat, MovableClock, texts
from tests.test_flows import joined
from tests.test_join_flow import seed


async def people(app: App, clock: MovableClock) -> tuple[Chat, Chat, Chat, dict[str, str]]:
    """A cadre on Telegram, a cadre on Zalo, a standing-committee member on Telegram."""
    codes = await seed(app, clock)
    tg = Chat(app, app.channels["telegram"], "9101")  # type: ignore[arg-type]
    zl = Chat(app, app.channels["zalo"], "zc_9102")  # type: ignore[arg-type]
    boss = Chat(app, app.channels["telegram"], "9103")  # type: ignore[arg-type]
    await joined(tg, codes["AP-CQ/cadre"], "Phạm Minh Tuấn")
    await joined(zl, codes["AP-CQ/cadre"], "Lý Thu Hà")
    await joined(boss, codes["AP/standing"], "Đặng Quốc Bảo")
    return tg, zl, boss, codes


def fresh(chat: Chat) -> str:
    mine = [o for o in chat.channel.delivered if o.chat_id == chat.chat_id]
    new, chat.seen = mine[chat.seen :], len(mine)
    return texts(new)


async def rows(app: App, model: type) -> list:
    async with unit_of_work(app.db) as uow:
        return list((await uow.session.exec(select(model))).all())


async def sends(chat: Chat, **evidence: object) -> list[Outgoing]:
    """A photo (``photo_ref``) or a location (``latitude``, ``longitude``), no caption."""
    return await chat._feed(chat._incoming(has_media=True, **evidence))


async def counted(app: App, chat_name: str) -> list[date]:
    async with unit_of_work(app.db) as uow:
        person = (await uow.session.exec(select(Person).where(Person.full_name == chat_name))).one()
        assert person.id is not None
        return await uow.visits.counted_days(person.id, date(2026, 1, 1), date(2026, 12, 31))


async def log_zalo(zl: Chat, days: str, note: str = "Dự sinh hoạt chi đoàn") -> str:
    """The whole /dicoso conversation on Zalo, by numbers and words; the last reply."""
    await zl.says("di co so")
    await zl.says("phu thinh")
    await zl.says(days)
    await zl.says("4")  # Dự họp BCH, sinh hoạt chi đoàn
    await zl.says(note)
    await zl.says("bo qua")
    return texts(await zl.says("1"))  # 💾 Lưu


async def test_telegram_cadre_logs_a_day_with_buttons_and_a_photo(
    app: App, clock: MovableClock
) -> None:
    tg, _, _, _ = await people(app, clock)
    out = await tg.says("/dicoso")
    assert "đơn vị nào" in texts(out)
    out = await tg.says("ap")  # too many matches: a list to pick from
    assert "Chi đoàn ấp 1" in [c.label for c in tg.last_question().choices]
    await tg.presses("Chi đoàn ấp 1")
    out = await tg.says("hôm qua")
    assert "việc gì" in texts(out)
    await tg.presses("Dự họp BCH")
    out = await tg.says("Dự sinh hoạt chi đoàn tháng 11, góp ý chương trình")
    assert "Minh chứng" in texts(out) and "Vị trí" in texts(out)
    out = await sends(tg, photo_ref="AgACphoto-file-id")
    summary = texts(out)
    assert "Chi đoàn ấp 1" in summary and "21/11 (1 ngày)" in summary and "📷 1 ảnh" in summary
    out = await tg.presses("Lưu")
    assert "Đã ghi 1 ngày" in texts(out) and "Năm nay: 1/60 ngày" in texts(out)

    [visit] = await rows(app, FieldVisit)
    assert visit.status == VisitStatus.COUNTED and visit.kind == "meeting"
    assert visit.photo_ref == "AgACphoto-file-id" and visit.first_day == date(2026, 11, 21)
    assert [a.action for a in await rows(app, AuditEntry) if a.entity == "field_visit"] == [
        "visit.logged"
    ]
    # The next time, the unit just visited is offered first; a location is evidence too.
    out = await tg.says("/dicoso")
    assert [c.label for c in tg.last_question().choices] == ["Chi đoàn ấp 1"]
    await tg.presses("Chi đoàn ấp 1")
    await tg.says("hôm nay")
    await tg.presses("Tập huấn")
    await tg.says("Hướng dẫn phần mềm quản lý đoàn viên")
    out = await sends(tg, latitude=10.77, longitude=106.7)
    assert "📍 vị trí" in texts(out)
    out = await tg.presses("Lưu")
    assert "Năm nay: 2/60 ngày" in texts(out)
    assert any(v.latitude == 10.77 for v in await rows(app, FieldVisit))


async def test_zalo_cadre_logs_a_range_and_overlaps_count_once(
    app: App, clock: MovableClock
) -> None:
    _, zl, _, _ = await people(app, clock)
    reply = await log_zalo(zl, "12/11-16/11")
    assert "Đã ghi 5 ngày" in reply and "Năm nay: 5/60 ngày" in reply

    await zl.says("đi cơ sở")
    out = await zl.says("1")  # the recent unit
    assert "những ngày nào" in texts(out)
    out = await zl.says("14/11 - 18/11")
    assert "14/11–16/11 đã ghi: Đoàn xã Phú Thịnh" in texts(out)
    for answer in ("2", "Phối hợp tổ chức ngày hội", "bỏ qua"):
        out = await zl.says(answer)
    assert "17/11–18/11 (2 ngày)" in texts(out)
    out = await zl.says("luu")
    assert "Đã ghi 2 ngày" in texts(out) and "Năm nay: 7/60 ngày" in texts(out)

    await zl.says("di co so")
    await zl.says("1")
    out = await zl.says("15/11")  # all logged already: said so, and asked again
    assert "đều đã được ghi" in texts(out) and "những ngày nào" in texts(out)
    out = await zl.says("hôm qua")
    assert "việc gì" in texts(out)
    assert len(await counted(app, "Lý Thu Hà")) == 7
    day_rows = await rows(app, FieldVisitDay)
    assert len(day_rows) == 7 and len({(d.person_id, d.day) for d in day_rows}) == 7


async def test_bad_input_is_refused_politely_and_the_question_stays(
    app: App, clock: MovableClock
) -> None:
    tg, zl, _, _ = await people(app, clock)
    await zl.says("di co so")
    out = await zl.says("xyz không có")
    assert "Không tìm thấy đơn vị" in texts(out)
    await zl.says("phu thinh")
    out = await sends(zl, photo_ref="https://photo.zalo.invalid/early.jpg")  # not yet
    assert "chỉ đọc được tin nhắn chữ" in texts(out) and "những ngày nào" in texts(out)
    out = await zl.says("ngày mai")
    assert "Chưa ghi được ngày chưa đến: 23/11" in texts(out)
    out = await zl.says("32/13")
    assert "không có trên lịch" in texts(out) and "những ngày nào" in texts(out)
    out = await zl.says("ngày mai nữa")
    assert "chưa hiểu “ngày mai nữa”" in texts(out)
    out = await zl.says("16/11-12/11")
    assert "bị ngược" in texts(out)
    out = await zl.says("1/9-30/10")
    assert "dài quá 31 ngày" in texts(out)
    out = await zl.says("thứ 2 tuần này")
    assert "việc gì" in texts(out)
    out = await zl.says("tám")  # no such kind
    assert "chưa hiểu" in texts(out)
    await zl.says("1")
    out = await zl.says("x" * 501)
    assert "501 ký tự, quá 500" in texts(out)
    await zl.says("Khảo sát tình hình thanh niên")
    out = await zl.says("có ảnh đây")  # words where a photo belongs
    assert "chờ một ảnh" in texts(out) and "vị trí cho bot" in texts(out)
    out = await sends(zl, photo_ref="https://photo.zalo.invalid/a.jpg")
    assert "16/11 (1 ngày)" in texts(out)
    assert await rows(app, FieldVisit) == []  # nothing stored before "Lưu"

    await tg.says("/dicoso")
    await tg.says("phu thinh")
    await tg.says("hôm qua")
    kinds = tg.last_question()
    await tg.presses("Tập huấn", on=kinds)
    out = await tg.presses("Việc khác", on=kinds)  # a button of the question answered
    assert any("cũ" in o.text for o in out)
    out = await tg.says("Hướng dẫn phần mềm")  # the open question is still the note
    assert "Minh chứng" in texts(out)


async def test_late_entry_waits_and_the_standing_committee_decides(
    app: App, clock: MovableClock
) -> None:
    tg, zl, boss, codes = await people(app, clock)
    fresh(boss)
    reply = await log_zalo(zl, "01/11")  # 21 days ago: more than 10
    assert "chờ Ban Thường vụ duyệt" in reply and "Năm nay: 0/60 ngày" in reply
    await app.sender.drain()
    request = fresh(boss)
    assert "Lý Thu Hà ghi muộn 1 ngày" in request and "01/11" in request
    [visit] = await rows(app, FieldVisit)
    assert visit.status == VisitStatus.PENDING

    member = Chat(app, app.channels["telegram"], "9104")  # type: ignore[arg-type]
    await joined(member, codes["AP-PT-A1/member"], "Lê Văn Nam")
    out = await member.says(f"duyet ngay {visit.id}")
    assert "không duyệt được" in texts(out)

    out = await boss.presses("Duyệt", on=boss.last_question())
    assert any("Đã duyệt mục số" in o.text for o in out)
    notice = fresh(zl)
    assert "đã duyệt 1 ngày" in notice and "Năm nay: 1/60 ngày" in notice
    out = await boss.presses("Không duyệt", on=boss.last_question())  # too late: decided
    assert any("đã được xử lý" in o.text for o in out)
    assert [v.status for v in await rows(app, FieldVisit)] == [VisitStatus.COUNTED]

    # A second late entry, rejected by words (as on Zalo, where there are no buttons).
    await tg.says("/dicoso")
    await tg.says("phu thinh")
    await tg.says("02/11")
    await tg.presses("Kiểm tra")
    await tg.says("Kiểm tra sổ sách chi đoàn")
    await tg.presses("Bỏ qua")
    out = await tg.presses("Lưu")
    assert "chờ Ban Thường vụ duyệt" in texts(out)
    pending = [v for v in await rows(app, FieldVisit) if v.status == VisitStatus.PENDING]
    out = await boss.says(f"tu choi ngay {pending[0].id}")
    assert "Đã không duyệt" in texts(out)
    await app.sender.drain()
    assert "không duyệt 1 ngày" in fresh(tg)
    assert await counted(app, "Phạm Minh Tuấn") == []
    actions = [a.action for a in await rows(app, AuditEntry) if a.entity == "field_visit"]
    assert actions.count("visit.approved") == 1 and actions.count("visit.rejected") == 1


async def test_corrections_inside_and_after_the_window_and_withdrawing(
    app: App, clock: MovableClock
) -> None:
    tg, zl, boss, _ = await people(app, clock)
    await log_zalo(zl, "hôm qua")
    out = await zl.says("ngay di co so")
    assert "1. 21/11 · Đoàn xã Phú Thịnh" in texts(out)
    out = await zl.says("1")
    assert "tự sửa hoặc rút lại được đến hết ngày 29/11/2026" in texts(out)
    await zl.says("sua ngay")
    out = await zl.says("20/11")
    assert "Sau khi sửa" in texts(out) and "20/11 (1 ngày)" in texts(out)
    out = await zl.says("luu")
    assert "Đã sửa" in texts(out) and "Năm nay: 1/60 ngày" in texts(out)
    old, new = sorted(await rows(app, FieldVisit), key=lambda v: v.id)
    assert old.status == VisitStatus.WITHDRAWN and new.status == VisitStatus.COUNTED
    assert new.replaces_id == old.id and await counted(app, "Lý Thu Hà") == [date(2026, 11, 20)]

    clock.advance(days=8)  # 30/11: eight days after the first version was logged
    fresh(boss)
    await zl.says("ngay di co so")
    out = await zl.says("1")
    assert "Đã quá 7 ngày" in texts(out) and "Rút lại" not in texts(out)
    await zl.says("sua noi dung")
    await zl.says("Dự sinh hoạt chi đoàn, trao quà cho thanh niên khó khăn")
    out = await zl.says("luu")
    assert "Đã gửi bản sửa" in texts(out) and "Năm nay: 1/60 ngày" in texts(out)
    await app.sender.drain()
    assert "xin sửa một mục" in fresh(boss)
    out = await zl.says("ngay di co so")
    assert "⏳ chờ duyệt" in texts(out)
    out = await zl.says("2")  # the counted entry, whose correction waits
    assert "đang có một bản sửa chờ" in texts(out)
    await boss.presses("Duyệt", on=boss.last_question())
    statuses = sorted((v.id, v.status) for v in await rows(app, FieldVisit))
    assert [s for _, s in statuses] == [
        VisitStatus.WITHDRAWN,
        VisitStatus.WITHDRAWN,
        VisitStatus.COUNTED,
    ]
    assert await counted(app, "Lý Thu Hà") == [date(2026, 11, 20)]

    # Withdrawing, within the window, on Telegram.
    await tg.says("/dicoso")
    await tg.says("phu thinh")
    await tg.says("hôm nay")
    await tg.presses("Việc khác")
    await tg.says("Làm việc với Đoàn xã")
    await tg.presses("Bỏ qua")
    await tg.presses("Lưu")
    out = await tg.says("/ngaydicoso")
    assert "1. 30/11 · Đoàn xã Phú Thịnh" in texts(out)
    await tg.presses("1")
    await tg.presses("Rút lại")
    out = await tg.presses("Rút lại")
    assert "Đã rút lại" in texts(out) and "Năm nay: 0/60 ngày" in texts(out)
    actions = [a.action for a in await rows(app, AuditEntry) if a.entity == "field_visit"]
    assert actions.count("visit.corrected") == 2 and "visit.withdrawn" in actions


async def test_thematic_trip_started_ended_and_reported(app: App, clock: MovableClock) -> None:
    tg, zl, _, _ = await people(app, clock)
    clock.now = datetime(2026, 11, 12, 1, 0, tzinfo=UTC)  # 08:00 on 12/11 in Vietnam
    out = await tg.says("/dotchuyende")
    assert "Chủ đề" in texts(out)
    await tg.says("Chuyển đổi số trong công tác Đoàn")
    await tg.says("phu thinh")
    await tg.presses("Hôm nay")
    out = await tg.presses("Bắt đầu")
    assert "Đã bắt đầu đợt" in texts(out) and "12/11/2026" in texts(out)

    clock.now = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # 17:00 on 16/11
    out = await tg.says("/dotchuyende")
    assert "đang trong đợt chuyên đề" in texts(out) and "5 ngày" in texts(out)
    await tg.presses("Kết thúc đợt")
    out = await tg.presses("Hôm nay")
    assert "12/11–16/11 (5 ngày)" in texts(out) and "⚠️" not in texts(out)
    out = await tg.presses("Kết thúc đợt")
    reply = texts(out)
    assert "Đã ghi 5 ngày" in reply and "Năm nay: 5/60 ngày" in reply
    assert "Hạn nộp báo cáo đợt: 26/11/2026" in reply
    [trip] = await rows(app, ThematicTrip)
    [visit] = await rows(app, FieldVisit)
    assert trip.ends_on == date(2026, 11, 16) and visit.trip_id == trip.id and visit.kind == "trip"
    async with unit_of_work(app.db) as uow:
        assert [t.id for t in await uow.visits.trips_awaiting_report()] == [trip.id]

    clock.now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    out = await tg.says("/baocaodot")
    assert "hạn 26/11/2026" in texts(out)
    out = await tg.says("Khảo sát 120 thanh niên, tập huấn phần mềm cho 6 chi đoàn.")
    assert "Đã nộp báo cáo" in texts(out) and "Đúng hạn" in texts(out)
    async with unit_of_work(app.db) as uow:
        assert await uow.visits.trips_awaiting_report() == []
    out = await tg.says("/baocaodot")
    assert "không có đợt chuyên đề nào" in texts(out)

    # On Zalo, a two-day trip: recorded, its days count, but it is no thematic trip.
    clock.now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    for text in ("dot chuyen de", "Nắm tình hình thanh niên công nhân", "phu thinh", "20/11"):
        await zl.says(text)
    await zl.says("1")  # ▶ Bắt đầu
    await zl.says("dot chuyen de")
    await zl.says("1")  # Kết thúc đợt
    out = await zl.says("hom qua")
    assert "chỉ có 2 ngày, chưa đủ 5–7 ngày" in texts(out)
    out = await zl.says("1")
    assert "Đã ghi 2 ngày" in texts(out) and "Năm nay: 2/60 ngày" in texts(out)
    out = await zl.says("dot chuyen de")
    assert "Chủ đề" in texts(out)  # no trip under way any more: a new one may start
    out = await zl.says("/ngaydicoso")  # a slash command: words here would be the theme
    assert "20/11–21/11 · Đoàn xã Phú Thịnh · đợt chuyên đề" in texts(out)
    out = await zl.says("1")
    assert "không sửa ở đây" in texts(out)


async def test_only_cadres_may_log_and_group_chats_are_refused(
    app: App, clock: MovableClock
) -> None:
    codes = await seed(app, clock)
    member = Chat(app, app.channels["zalo"], "zm_9201")  # type: ignore[arg-type]
    await joined(member, codes["AP-PT-A1/member"], "Võ Văn Kiệt")
    for words in ("di co so", "/dotchuyende", "ngay di co so", "/baocaodot"):
        out = await member.says(words)
        assert "dành cho cán bộ chuyên trách" in texts(out)
    out = await member.says("/dicoso", group=True)
    assert "nhắn riêng" in texts(out)
    # Marked as a full-time cadre by the committee (a FieldCadre row), they may log.
    async with unit_of_work(app.db) as uow:
        person = (await uow.session.exec(select(Person))).one()
        unit = await uow.units.by_code("AP-CQ")
        assert person.id is not None and unit is not None and unit.id is not None
        uow.session.add(FieldCadre(person_id=person.id, unit_id=unit.id))
        await uow.commit()
    out = await member.says("di co so")
    assert "đơn vị nào" in texts(out)


async def test_repository_reads_many_cadres_in_one_query_each(
    app: App, clock: MovableClock
) -> None:
    await seed(app, clock)
    async with unit_of_work(app.db) as uow:
        ids = []
        for n in range(40):
            person = await uow.people.add(f"Cán bộ {n}", "vi", "active")  # type: ignore[arg-type]
            assert person.id is not None
            ids.append(person.id)
            for k in range(5):  # five entries, each overlapping the next by a day
                first = date(2026, 3, 1 + 2 * k)
                days = [first, date(2026, 3, 2 + 2 * k), date(2026, 3, 3 + 2 * k)]
                status = VisitStatus.WITHDRAWN if k == 4 else VisitStatus.COUNTED
                visit = FieldVisit(
                    person_id=person.id,
                    kind="activity",
                    status=status,
                    first_day=days[0],
                    last_day=days[-1],
                )
                await uow.visits.add(visit, days)
            uow.session.add(
                ThematicTrip(
                    person_id=person.id,
                    theme="Chuyên đề",
                    starts_on=date(2026, 4, 1),
                    ends_on=date(2026, 4, 5),
                )
            )
        await uow.commit()

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(app.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with unit_of_work(app.db) as uow:
            days = await uow.visits.days_by_person(ids, date(2026, 1, 1), date(2026, 12, 31))
            trips = await uow.visits.trips_of(ids, date(2026, 1, 1), date(2026, 12, 31))
            waiting = await uow.visits.trips_awaiting_report(person_ids=ids)
            one = await uow.visits.counted_days(ids[0], date(2026, 3, 5), date(2026, 3, 31))
            entries = await uow.visits.entries(ids[0], date(2026, 1, 1), date(2026, 12, 31))
    finally:
        event.remove(app.db.engine.sync_engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 5  # one query for each call, whatever the number of cadres
    assert "field_visit_day" in selects[0] and "thematic_trip" in selects[1]
    # Entries 0–3 are counted: 1/3 to 9/3, each day once; the withdrawn one adds nothing.
    assert days[ids[7]] == [date(2026, 3, d) for d in range(1, 10)]
    assert len(trips[ids[3]]) == 1 and len(waiting) == 40
    assert one == [date(2026, 3, d) for d in range(5, 10)]
    assert len(entries) == 4 and entries[0].first_day == date(2026, 3, 7)


# --- evidence from the adapters -----------------------------------------------------------


def test_incoming_evidence_round_trips_and_old_payloads_still_load() -> None:
    from bot.messages import Channel, Incoming

    now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    sent = Incoming(
        Channel.TELEGRAM, "1", "5", "5", now, has_media=True, latitude=10.7, longitude=106.6
    )
    assert Incoming.from_json(sent.to_json()) == sent and sent.has_evidence
    old = {
        k: v for k, v in sent.to_json().items() if k not in ("photo_ref", "latitude", "longitude")
    }
    loaded = Incoming.from_json({**old, "added_later": 1})  # an older and a newer payload
    assert loaded.photo_ref is None and loaded.latitude is None and not loaded.has_evidence


def test_adapters_keep_only_the_platforms_reference_to_a_photo() -> None:
    from aiogram.types import Chat as TgChat
    from aiogram.types import Location, Message, PhotoSize, User

    from bot.telegram import from_message
    from bot.zalo.updates import parse_update

    now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    sizes = [
        PhotoSize(file_id=f"id-{w}", file_unique_id=f"u{w}", width=w, height=w) for w in (90, 1280)
    ]
    base = {
        "message_id": 7,
        "date": now,
        "chat": TgChat(id=5, type="private"),
        "from": User(id=5, is_bot=False, first_name="An"),
    }
    photo = from_message(1, Message.model_validate({**base, "photo": sizes}))
    place = from_message(
        2, Message.model_validate({**base, "location": Location(latitude=10.7, longitude=106.6)})
    )
    assert photo is not None and photo.photo_ref == "id-1280" and photo.text is None
    assert place is not None and (place.latitude, place.longitude) == (10.7, 106.6)
    body = {
        "event_name": "message.image.received",
        "message": {
            "message_id": "m1",
            "date": 1,
            "photo": "https://photo.zalo.invalid/a.jpg",
            "from": {"id": "z1"},
            "chat": {"id": "z1", "chat_type": "PRIVATE"},
        },
    }
    zalo = parse_update(body, received_at=now)
    assert zalo is not None and zalo.photo_ref == "https://photo.zalo.invalid/a.jpg"
    assert zalo.latitude is None  # Zalo cannot share a location
