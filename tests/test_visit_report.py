"""The committee's "1+2" report: numbers, the text, the Excel file, the chat command.

A hand-made province where the answer is obvious, on SQLite and, with
DOANBOT_TEST_DATABASE_URL, PostgreSQL. As of 15/11/2026 in Tỉnh đoàn An Phú (60 days,
counted from January): An reached 60 days with two proper trips; Bình 62 (one day
logged twice, a pending and a rejected entry not counted; two back-to-back trips that
count as one, a report filed late); Cường 20 (days after 15/11 and last year's not
counted; a trip whose report is missing); Dung exempt for long service (and went
anyway); Em never went. Bến Tre counts 30 days from March.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, text

from bot.app import App
from bot.i18n import Translator
from bot.messages import DOCUMENT
from handlers.fieldvisits.export import visit_workbook
from handlers.fieldvisits.report import load_report, read_as_of
from handlers.fieldvisits.report_text import report_text, sentence
from storage.db import Database
from storage.models import (
    FieldCadre,
    FieldVisit,
    FieldVisitDay,
    PersonStatus,
    ThematicTrip,
    Unit,
    VisitExemption,
)
from storage.uow import UnitOfWork, unit_of_work
from tests.support import Chat, MovableClock, texts

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AS_OF = date(2026, 11, 15)
UNITS = [
    ("AP", "Tỉnh đoàn An Phú", "province", None),
    ("AP-VP", "Văn phòng Tỉnh đoàn", "office", "AP"),
    ("AP-TG", "Ban Tuyên giáo", "office", "AP"),
    ("AP-PT", "Đoàn xã Phú Thịnh", "grassroots", "AP"),
    ("BT", "Tỉnh đoàn Bến Tre", "province", None),
    ("BT-VP", "Văn phòng Tỉnh đoàn Bến Tre", "office", "BT"),
]


def span(first: date, n: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


class Seeder:
    """Adds units, cadres and their entries as the logging flows store them."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.units: dict[str, Unit] = {}
        self.people: dict[str, int] = {}

    async def tree(self) -> None:
        for code, name, kind, parent in UNITS:
            self.units[code] = await self.uow.units.add(
                code, name, kind, self.units[parent] if parent else None
            )
        bt = self.units["BT"]
        bt.settings = {"field_visits": {"target_days": 30, "window_start_month": 3}}
        self.uow.session.add(bt)

    async def cadre(self, name: str, unit: str, *, active: bool = True) -> int:
        person = await self.uow.people.add(name, "vi", PersonStatus.ACTIVE)
        assert person.id is not None
        unit_id = self.units[unit].id
        assert unit_id is not None
        self.uow.session.add(FieldCadre(person_id=person.id, unit_id=unit_id, active=active))
        self.people[name] = person.id
        return person.id

    async def visit(
        self,
        who: str,
        days: Iterable[date],
        *,
        kind: str = "activity",
        status: str = "counted",
        note: str | None = None,
        trip_id: int | None = None,
    ) -> None:
        days = sorted(days)
        visit = FieldVisit(
            person_id=self.people[who],
            unit_id=self.units["AP-PT"].id,
            kind=kind,
            note=note,
            trip_id=trip_id,
            status=status,
            first_day=days[0],
            last_day=days[-1],
        )
        self.uow.session.add(visit)
        await self.uow.session.flush()
        assert visit.id is not None
        self.uow.session.add_all(
            FieldVisitDay(visit_id=visit.id, day=d, person_id=self.people[who]) for d in days
        )

    async def trip(
        self,
        who: str,
        first: date,
        n: int,
        *,
        filed: date | None = None,
        theme: str = "Chuyển đổi số",
    ) -> None:
        """A trip of ``n`` days, its days logged as counted entries of kind "trip"."""
        filed_at = datetime(filed.year, filed.month, filed.day, 3, tzinfo=UTC) if filed else None
        trip = ThematicTrip(
            person_id=self.people[who],
            theme=theme,
            starts_on=first,
            ends_on=first + timedelta(days=n - 1),
            report="Đã báo cáo" if filed else None,
            report_filed_at=filed_at,
        )
        self.uow.session.add(trip)
        await self.uow.session.flush()
        await self.visit(who, span(first, n), kind="trip", trip_id=trip.id)

    def exempt(self, who: str, reason: str, starts: date, ends: date | None = None) -> None:
        self.uow.session.add(
            VisitExemption(
                person_id=self.people[who], reason=reason, starts_on=starts, ends_on=ends
            )
        )


async def seed_province(uow: UnitOfWork) -> Seeder:
    """The hand-made set of the module docstring; committed by the caller."""
    s = Seeder(uow)
    await s.tree()
    for name, unit in [
        ("Nguyễn Văn An", "AP-VP"),
        ("Trần Thị Bình", "AP-TG"),
        ("Lê Văn Cường", "AP-TG"),
        ("Phạm Thị Dung", "AP-VP"),
        ("Hoàng Văn Em", "AP-VP"),
        ("Lý Thị Lan", "BT-VP"),
        ("Đỗ Văn Minh", "BT-VP"),
    ]:
        await s.cadre(name, unit)
    await s.cadre("Võ Văn Hùng", "AP-VP", active=False)  # no longer in "1+2"
    await s.visit("Võ Văn Hùng", span(date(2026, 5, 4), 10))

    # An: 50 days of activities and two 5-day trips, reports on time: 60.
    await s.trip("Nguyễn Văn An", date(2026, 3, 2), 5, filed=date(2026, 3, 10))
    await s.trip("Nguyễn Văn An", date(2026, 6, 10), 5, filed=date(2026, 6, 20))
    for start in range(0, 50, 10):
        await s.visit("Nguyễn Văn An", span(date(2026, 9, 1) + timedelta(days=start), 10))
    # Bình: back-to-back trips (count as one; the second report filed late) and 52 days,
    # 01/07 logged twice; a pending and a rejected entry.
    await s.trip("Trần Thị Bình", date(2026, 4, 1), 5, filed=date(2026, 4, 10))
    await s.trip("Trần Thị Bình", date(2026, 4, 6), 5, filed=date(2026, 4, 30), theme="Khởi nghiệp")
    await s.visit("Trần Thị Bình", span(date(2026, 7, 1), 26), note="Hỗ trợ Đại hội chi đoàn")
    await s.visit("Trần Thị Bình", span(date(2026, 7, 27), 26))
    await s.visit("Trần Thị Bình", [date(2026, 7, 1)], kind="meeting", note="=Dự họp BCH")
    await s.visit("Trần Thị Bình", span(date(2026, 10, 1), 5), status="pending")
    await s.visit("Trần Thị Bình", [date(2026, 10, 6)], status="rejected")
    # Cường: 15 meeting days in January and a trip ending 31/10 without a report: 20.
    await s.visit("Lê Văn Cường", span(date(2026, 1, 5), 15), kind="meeting")
    await s.trip("Lê Văn Cường", date(2026, 10, 27), 5, theme="An sinh xã hội")
    await s.visit("Lê Văn Cường", span(date(2026, 11, 16), 5))  # after the day
    await s.visit("Lê Văn Cường", [date(2025, 12, 20)])  # last counting year
    # Dung: exempt for long service since 2020 (an accounting exemption ended), went anyway.
    s.exempt("Phạm Thị Dung", "accounting_or_clerical", date(2019, 1, 1), date(2019, 12, 31))
    s.exempt("Phạm Thị Dung", "long_service", date(2020, 1, 1))
    await s.visit("Phạm Thị Dung", span(date(2026, 3, 16), 5), note="=SUM(A1:A9)")
    # Em: nothing counted this year (a withdrawn entry); two trips of December 2025
    # without reports: the first one's was due in 2025, the second one's in January.
    await s.visit("Hoàng Văn Em", [date(2026, 2, 2)], status="withdrawn")
    await s.trip("Hoàng Văn Em", date(2025, 12, 1), 5, theme="Mùa đông ấm")
    await s.trip("Hoàng Văn Em", date(2025, 12, 24), 5, theme="Xuân tình nguyện")
    # Bến Tre, 30 days from March: Lan 30 (+10 in February, the year before); Minh 29.
    await s.visit("Lý Thị Lan", span(date(2026, 2, 10), 10))
    await s.visit("Lý Thị Lan", span(date(2026, 3, 2), 30))
    await s.visit("Đỗ Văn Minh", span(date(2026, 1, 12), 5))
    await s.visit("Đỗ Văn Minh", span(date(2026, 4, 1), 29))
    await uow.session.flush()
    return s


@pytest.fixture
async def db(database_url: str) -> Any:
    database = Database(database_url)
    async with unit_of_work(database) as uow:
        await seed_province(uow)
        await uow.commit()
    yield database
    await database.dispose()


async def report_of(db: Database, code: str, as_of: date = AS_OF, *, days: bool = False) -> Any:
    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code(code)
        assert unit is not None
        return await load_report(uow, unit, as_of, TZ, days=days)


# --- the numbers -----------------------------------------------------------------------


async def test_report_numbers_as_of_a_day(db: Database) -> None:
    report = await report_of(db, "AP")
    assert report.window == (date(2026, 1, 1), date(2026, 12, 31))
    lines = {c.name: c for c in report.cadres}
    assert list(lines) == [  # by unit, then name; the inactive cadre is not there
        "Hoàng Văn Em",
        "Nguyễn Văn An",
        "Phạm Thị Dung",
        "Lê Văn Cường",
        "Trần Thị Bình",
    ]
    days = {name: line.summary.days for name, line in lines.items()}
    assert days == {
        "Nguyễn Văn An": 60,
        "Trần Thị Bình": 62,  # 01/07 once; pending and rejected days left out
        "Lê Văn Cường": 20,  # nothing after 15/11, nothing from 2025
        "Phạm Thị Dung": 5,
        "Hoàng Văn Em": 0,
    }
    assert (report.total, report.exempt, len(report.measured)) == (5, 1, 4)
    assert (report.went, report.reached, report.not_going, report.did_not_go) == (3, 2, 1, 2)
    assert dict(report.exempt_by_reason) == {"long_service": 1}
    assert lines["Phạm Thị Dung"].summary.went and not lines["Phạm Thị Dung"].measured
    trips = {name: line.summary.trips_done for name, line in lines.items()}
    assert trips == {
        "Nguyễn Văn An": 2,
        "Trần Thị Bình": 1,  # back-to-back: one
        "Lê Văn Cường": 1,
        "Phạm Thị Dung": 0,
        "Hoàng Văn Em": 0,
    }
    assert (report.trips_done, report.enough_trips) == (4, 1)
    late = [(r.name, r.theme, r.due, r.filed_on) for r in report.late_reports]
    assert late == [
        ("Hoàng Văn Em", "Xuân tình nguyện", date(2026, 1, 7), None),
        ("Trần Thị Bình", "Khởi nghiệp", date(2026, 4, 20), date(2026, 4, 30)),
        ("Lê Văn Cường", "An sinh xã hội", date(2026, 11, 10), None),
    ]
    # 319 days of 365 gone: 52 expected; Em and Cường are behind, Em furthest.
    assert [c.name for c in report.behind()] == ["Hoàng Văn Em", "Lê Văn Cường"]
    assert lines["Lê Văn Cường"].pace.expected_by_now == 52
    assert all(not line.days for line in report.cadres)  # the entries are for the file

    detailed = await report_of(db, "AP", days=True)
    assert [c.summary for c in detailed.cadres] == [c.summary for c in report.cadres]
    binh = {c.name: c for c in detailed.cadres}["Trần Thị Bình"].days
    assert len(binh) == 62
    first = next(d for d in binh if d.day == date(2026, 7, 1))
    assert first.kinds == ("activity", "meeting") and len(first.notes) == 2


async def test_an_earlier_day_sees_only_what_was_true_then(db: Database) -> None:
    report = await report_of(db, "AP", date(2026, 11, 5))
    lines = {c.name: c for c in report.cadres}
    assert lines["Lê Văn Cường"].summary.days == 20
    themes = [r.theme for r in report.late_reports]
    assert themes == ["Xuân tình nguyện", "Khởi nghiệp"]  # Cường's is due 10/11: not yet
    early = await report_of(db, "AP", date(2026, 3, 4))  # An's first trip still under way
    an = {c.name: c for c in early.cadres}["Nguyễn Văn An"]
    assert (an.summary.days, an.summary.trips_done) == (3, 0)


async def test_a_subtree_and_a_province_with_its_own_rules(db: Database) -> None:
    office = await report_of(db, "AP-TG")
    assert sorted(c.name for c in office.cadres) == ["Lê Văn Cường", "Trần Thị Bình"]
    report = await report_of(db, "BT")
    assert report.rules.target_days == 30
    assert report.window == (date(2026, 3, 1), date(2027, 2, 28))
    days = {c.name: c.summary.days for c in report.cadres}
    assert days == {"Lý Thị Lan": 30, "Đỗ Văn Minh": 29}  # February/January not this year
    assert (report.went, report.reached) == (2, 1)
    before = await report_of(db, "BT", date(2026, 2, 15))
    assert before.window == (date(2025, 3, 1), date(2026, 2, 28))
    assert {c.name: c.summary.days for c in before.cadres} == {"Lý Thị Lan": 6, "Đỗ Văn Minh": 5}


async def test_a_handful_of_queries_whatever_the_number_of_cadres(db: Database) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await report_of(db, "AP")
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    # the unit, its ancestors (rules), cadres, days, exemptions, trips
    assert len(statements) <= 6, statements


# --- the text --------------------------------------------------------------------------


async def test_text_has_the_unions_sentence(db: Database) -> None:
    report = await report_of(db, "AP")
    vi, en = Translator("vi"), Translator("en")
    assert sentence(report, vi) == (
        "Tính đến ngày 15/11/2026, 3/5 cán bộ thuộc diện “1+2” đã đi cơ sở; 67% số đã đi đạt "
        "60 ngày; 2 chưa đi (1 trên 20 năm công tác, được miễn; 1 không được miễn)."
    )
    assert sentence(report, en) == (
        "As of 15/11/2026, 3/5 cadres subject to “1+2” went to the grassroots; 67% of them "
        "reached 60 days; 2 did not go (1 over 20 years' service, exempt; 1 not exempt)."
    )
    body = report_text(report, vi)
    assert "✅ Đạt 60 ngày: 2 người – 67% số đã đi, 50% trong số 4 cán bộ không được miễn." in body
    assert "2/4" not in body.split("\n")[0]
    assert "🧭 Đợt chuyên đề: 4 đợt đã xong; 1/4 cán bộ đủ 2 đợt." in body
    assert "⏰ Báo cáo đợt chuyên đề quá hạn: 3\n• Hoàng Văn Em: “Xuân tình nguyện”" in body
    assert "• Lê Văn Cường: “An sinh xã hội”, hạn 10/11/2026\n" in body
    assert "• Trần Thị Bình: “Khởi nghiệp”, hạn 20/04/2026, nộp 30/04/2026" in body
    assert "🐢 Chậm tiến độ: 2 người (đến nay cần khoảng 52 ngày):" in body
    assert body.index("Hoàng Văn Em (Văn phòng Tỉnh đoàn): 0/60") < body.index("Lê Văn Cường (")
    assert len(body) < 1500  # a phone screen or two


async def test_text_when_nobody_went_or_nobody_is_in_it(db: Database) -> None:
    t = Translator("vi")
    early = await report_of(db, "AP-VP", date(2026, 1, 2))
    assert sentence(early, t).startswith(
        "Tính đến ngày 02/01/2026, chưa cán bộ nào trong 3 cán bộ thuộc diện “1+2” đi cơ sở; "
        "3 chưa đi (1 trên 20 năm công tác, được miễn; 2 không được miễn)"
    )
    empty = await report_of(db, "AP-PT")
    assert report_text(empty, t).endswith("Đoàn xã Phú Thịnh chưa có cán bộ nào thuộc diện “1+2”.")


def test_as_of_is_read_looking_back() -> None:
    today = date(2026, 11, 22)
    assert read_as_of("hôm nay", today) == today
    assert read_as_of("15/11/2026", today) == date(2026, 11, 15)
    assert read_as_of("15/11", today) == date(2026, 11, 15)  # not next year's
    assert read_as_of("30/12", today) == date(2025, 12, 30)
    assert read_as_of("30/12/2026", today) == date(2026, 12, 30)  # the caller refuses it
    assert read_as_of("ngày mai", today) == date(2026, 11, 23)
    assert read_as_of("32/13", today) is None
    assert read_as_of("báo cáo", today) is None


# --- the workbook ----------------------------------------------------------------------


async def test_workbook_reads_back(db: Database) -> None:
    report = await report_of(db, "AP", days=True)
    book = load_workbook(io.BytesIO(visit_workbook(report, Translator("vi"))))
    assert book.sheetnames == ["Tổng hợp", "Từng cán bộ", "Từng ngày"]
    summary, cadres, days = book.worksheets
    facts = {r[0]: r[1] for r in summary.iter_rows(min_row=3, values_only=True) if r[0]}
    assert facts["Tính đến ngày"] == datetime(2026, 11, 15)
    assert facts["Chỉ tiêu (ngày)"] == 60 and facts["Cán bộ thuộc diện “1+2”"] == 5
    assert facts["   – trên 20 năm công tác"] == 1
    assert (facts["Đã đi cơ sở"], facts["Đạt chỉ tiêu"]) == (3, 2)
    assert facts["Tỉ lệ đạt / số đã đi"] == pytest.approx(2 / 3)
    assert facts["Báo cáo đợt chuyên đề quá hạn"] == 3
    as_of_cell = next(
        c for row in summary.iter_rows() for c in row if c.value == datetime(2026, 11, 15)
    )
    assert as_of_cell.number_format == "DD/MM/YYYY"

    header, *rows = list(cadres.iter_rows(values_only=True))
    assert header[:6] == ("Họ tên", "Đơn vị công tác", "Diện", "Lý do miễn", "Số ngày", "Chỉ tiêu")
    assert cadres.freeze_panes == "B2" and cadres["A1"].font.bold
    by_name = {r[0]: r for r in rows}
    assert len(rows) == 5
    assert by_name["Phạm Thị Dung"][2:5] == ("Miễn", "trên 20 năm công tác", 5)
    assert by_name["Trần Thị Bình"][4:12] == (
        62,
        60,
        pytest.approx(62 / 60),
        52,
        1,
        "Không",
        1,
        "Có",
    )
    assert by_name["Lê Văn Cường"][11] == "Không"

    header, *lines = list(days.iter_rows(values_only=True))
    assert header == ("Họ tên", "Ngày", "Đơn vị đến", "Nội dung", "Ghi chú")
    assert days.freeze_panes == "A2"
    assert len(lines) == 60 + 62 + 20 + 5
    twice = next(r for r in lines if r[0] == "Trần Thị Bình" and r[1] == datetime(2026, 7, 1))
    assert twice[2:] == (
        "Đoàn xã Phú Thịnh",
        "Phối hợp tổ chức hoạt động; Dự họp BCH, sinh hoạt chi đoàn",
        "Hỗ trợ Đại hội chi đoàn; =Dự họp BCH",  # written as text, not a formula
    )
    assert days["B2"].number_format == "DD/MM/YYYY" and days["B2"].is_date
    assert all(r[1] <= datetime(2026, 11, 15) for r in lines)
    formula = next(c for c in days["E"] if c.value == "=SUM(A1:A9)")
    assert formula.data_type == "s"  # a cadre's note is never run as a formula


# --- the chat command ------------------------------------------------------------------

DOMAIN_TABLES = (
    "unit",
    "person",
    "membership",
    "field_cadre",
    "visit_exemption",
    "thematic_trip",
    "field_visit",
    "field_visit_day",
    "visit_plan",
    "consent",
    "invite",
    "poll",
    "meeting",
)


async def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a report must never change."""
    async with unit_of_work(app.db) as uow:
        return {
            table: sorted(
                tuple(map(str, r))
                for r in (await uow.session.execute(text(f"SELECT * FROM {table}"))).all()
            )
            for table in DOMAIN_TABLES
        }


async def counts(app: App, tables: Iterable[str]) -> dict[str, int]:
    async with unit_of_work(app.db) as uow:
        return {
            t: int((await uow.session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one())
            for t in tables
        }


async def reader(app: App, clock: MovableClock, chat: Chat, roles: list[tuple[str, str]]) -> None:
    """Someone on ``chat``'s channel with the given (unit code, role) memberships."""
    async with unit_of_work(app.db) as uow:
        person = await uow.people.add("Ngô Thị Kiểm", "vi", PersonStatus.ACTIVE)
        await uow.people.add_identity(
            person, chat.channel.channel.value, chat.user_id, chat.chat_id, clock()
        )
        for code, role in roles:
            unit = await uow.units.by_code(code)
            assert unit is not None
            await uow.people.add_membership(person, unit, role)
        await uow.commit()


async def seeded_app(app: App) -> None:
    async with unit_of_work(app.db) as uow:
        await seed_province(uow)
        await uow.commit()


async def test_inspector_reads_the_report_and_changes_nothing(
    app: App, clock: MovableClock, zalo_user: Chat
) -> None:
    await seeded_app(app)
    await reader(app, clock, zalo_user, [("AP", "inspector")])
    before = await snapshot(app)
    media_before = await counts(app, ["media", "audit_log"])

    out = await zalo_user.says("bao cao 1+2")
    assert "tính đến ngày nào" in texts(out) and "1. Hôm nay" in texts(out)
    out = await zalo_user.says("32/13")
    assert "chưa hiểu ngày này" in texts(out) and "tính đến ngày nào" in texts(out)
    out = await zalo_user.says("30/11/2026")  # after today (22/11/2026)
    assert "chưa tới" in texts(out)
    out = await zalo_user.says("15/11/2026")
    assert "Tính đến ngày 15/11/2026, 3/5 cán bộ" in texts(out)
    assert "Tải file Excel" in texts(out)
    assert await snapshot(app) == before
    assert await counts(app, ["media", "audit_log"]) == media_before

    out = await zalo_user.says("tai file excel")
    [document] = [o for o in out if o.media_kind == DOCUMENT]
    assert document.media_name == "bao-cao-1-2-AP-20261115.xlsx"
    assert await snapshot(app) == before  # only the file and the audit entry were written
    after = await counts(app, ["media", "audit_log"])
    assert after == {"media": media_before["media"] + 1, "audit_log": media_before["audit_log"] + 1}
    async with unit_of_work(app.db) as uow:
        media = await uow.media.get(document.media_token or "", clock())
        assert media is not None
        assert load_workbook(io.BytesIO(media.data)).sheetnames[0] == "Tổng hợp"
        [(action, details)] = (
            await uow.session.execute(
                text("SELECT action, details FROM audit_log WHERE action LIKE 'visits.%'")
            )
        ).all()
    assert action == "visits.report_exported" and "2026-11-15" in str(details)


async def test_standing_member_of_two_units_picks_one_and_today(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    await seeded_app(app)
    await reader(app, clock, telegram_user, [("AP", "standing"), ("BT", "admin")])
    out = await telegram_user.says("/baocao12")
    assert "của đơn vị nào" in texts(out)
    await telegram_user.presses("Bến Tre")
    out = await telegram_user.presses("Hôm nay")
    body = texts(out)
    assert (
        "Tính đến ngày 22/11/2026, 2/2 cán bộ thuộc diện “1+2” đã đi cơ sở; "
        "50% số đã đi đạt 30 ngày."
    ) in body
    out = await telegram_user.presses("Excel")
    [document] = [o for o in out if o.media_kind == DOCUMENT]
    assert "Tỉnh đoàn Bến Tre" in (document.text or "")


async def test_members_and_secretaries_may_not_read_it(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    await seeded_app(app)
    await reader(app, clock, telegram_user, [("AP-PT", "secretary"), ("AP-VP", "cadre")])
    out = await telegram_user.says("/baocao12")
    assert "Tính đến" not in texts(out) and "ngày nào" not in texts(out)
