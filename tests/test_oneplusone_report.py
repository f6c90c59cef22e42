""" "1+1" reports: the numbers, the texts, the Excel files, the chat command ``/baocao11``.

A hand-made province where the answers are obvious, on SQLite and, with
DOANBOT_TEST_DATABASE_URL, PostgreSQL. In 2026, Tỉnh đoàn An Phú has three branches:

* Chi đoàn ấp 1 (4 members, one not on the bot yet): An brought two young people
  (one joined the union), Bình one who declined to leave their data (still counts),
  plus one who took part but nobody confirmed yet (not counted: waiting for the young
  person and the secretary); Dung one whose link lapsed but the secretary confirmed
  (counts), one only contacted and one duplicate (never counts); Cường nothing. A plan
  since 05/03. Last year's record does not count this year.
* Chi đoàn ấp 2 (2 members): Em's young person took part, still unconfirmed: nothing
  counts, the branch has not carried "1+1" out.
* Chi đoàn 12A1 under a school union that asks 2 per member: Hà brought 2 (one joined
  the federation), Khoa 1; planned and evaluated ("good").

Bến Tre has a branch of its own that An Phú's report must never include.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, text

from bot.app import App
from bot.config import Settings
from bot.i18n import Translator
from bot.messages import DOCUMENT
from handlers.oneplusone.export import report_workbook
from handlers.oneplusone.report_build import Report, branch_figures, load_report
from handlers.oneplusone.report_text import report_text, totals_line
from handlers.oneplusone.rules import awaits_secretary, counts
from storage.db import Database
from storage.models import PersonStatus, Recruit, RecruitPlan, Unit
from storage.recruit_report import load_report_rows
from storage.uow import UnitOfWork, unit_of_work
from tests.support import Chat, MovableClock, texts
from tests.test_visit_report import counts as rows_in

YEAR = 2026
TODAY = date(2026, 11, 22)  # the test clock's day in Vietnam
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
UNITS = [
    ("AP", "Tỉnh đoàn An Phú", "province", None),
    ("AP-PT", "Đoàn xã Phú Thịnh", "grassroots", "AP"),
    ("AP-PT-A1", "Chi đoàn ấp 1", "branch", "AP-PT"),
    ("AP-PT-A2", "Chi đoàn ấp 2", "branch", "AP-PT"),
    ("AP-TH", "Đoàn trường THPT Tân Hòa", "grassroots", "AP"),
    ("AP-TH-12A1", "Chi đoàn 12A1", "branch", "AP-TH"),
    ("AP-VP", "Văn phòng Tỉnh đoàn", "office", "AP"),
    ("BT", "Tỉnh đoàn Bến Tre", "province", None),
    ("BT-A", "Chi đoàn Bến Tre A", "branch", "BT"),
]
MEMBERS = [  # name, branch, status, roles
    ("Nguyễn Văn An", "AP-PT-A1", PersonStatus.ACTIVE, ("member", "secretary")),
    ("Trần Thị Bình", "AP-PT-A1", PersonStatus.ACTIVE, ("member",)),
    ("Lê Văn Cường", "AP-PT-A1", PersonStatus.INVITED, ("member",)),
    ("Phạm Thị Dung", "AP-PT-A1", PersonStatus.ACTIVE, ("deputy",)),
    ("Võ Thị Xoá", "AP-PT-A1", PersonStatus.DELETED, ("member",)),  # erased: not a member
    ("Hồ Văn Em", "AP-PT-A2", PersonStatus.ACTIVE, ("member",)),
    ("Đặng Thị Giang", "AP-PT-A2", PersonStatus.ACTIVE, ("member",)),
    ("Vũ Thị Hà", "AP-TH-12A1", PersonStatus.ACTIVE, ("member",)),
    ("Mai Văn Khoa", "AP-TH-12A1", PersonStatus.ACTIVE, ("member",)),
    ("Lý Thị Lan", "BT-A", PersonStatus.ACTIVE, ("member",)),
    ("Tô Văn Cán", "AP-VP", PersonStatus.ACTIVE, ("cadre",)),  # a cadre is not a member
]
CONFIRMED_AT = datetime(2026, 6, 1, 3, tzinfo=UTC)
# Every young person's name in the set: none may appear in a roll-up.
YOUNG = ("Phạm Thu", "Võ Lâm", "Lý Hạnh", "Trịnh Quân", "Hồ Nhi", "Kim Ngân", "Lâm Tú", "Bế Ly")


class Seeder:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.units: dict[str, Unit] = {}
        self.people: dict[str, int] = {}

    async def tree(self) -> None:
        for code, name, kind, parent in UNITS:
            self.units[code] = await self.uow.units.add(
                code, name, kind, self.units[parent] if parent else None
            )
        school = self.units["AP-TH"]
        school.settings = {"oneplusone_target": 2}
        self.uow.session.add(school)
        for name, code, status, roles in MEMBERS:
            person = await self.uow.people.add(name, "vi", status)
            assert person.id is not None
            self.people[name] = person.id
            for role in roles:
                await self.uow.people.add_membership(person, self.units[code], role)

    def recruit(
        self,
        member: str,
        branch: str,
        name: str | None,
        stage: str,
        consent: str,
        *,
        joined_as: str | None = None,
        verified: bool = False,
        year: int = YEAR,
        activity: str = "Ngày Chủ nhật xanh",
    ) -> None:
        unit_id = self.units[branch].id
        assert unit_id is not None
        self.uow.session.add(
            Recruit(
                member_id=self.people[member],
                unit_id=unit_id,
                year=year,
                name=name,
                activity=activity,
                activity_on=date(year, 5, 15),
                stage=stage,
                joined_as=joined_as,
                consent=consent,
                verified_by_id=self.people["Nguyễn Văn An"] if verified else None,
                verified_at=CONFIRMED_AT if verified else None,
            )
        )

    def plan(self, branch: str, surveyed: int, *, grade: str | None = None) -> None:
        unit_id = self.units[branch].id
        assert unit_id is not None
        self.uow.session.add(
            RecruitPlan(
                unit_id=unit_id,
                year=YEAR,
                surveyed=surveyed,
                activities="Ngày hội việc làm",
                planned_at=datetime(2026, 3, 4, 18, tzinfo=UTC),  # 05/03 in Vietnam
                grade=grade,
                evaluated_at=datetime(2026, 11, 10, 3, tzinfo=UTC) if grade else None,
            )
        )


async def seed_province(uow: UnitOfWork) -> Seeder:
    """The set of the module docstring; committed by the caller."""
    s = Seeder(uow)
    await s.tree()
    a1 = "AP-PT-A1"
    s.recruit("Nguyễn Văn An", a1, "Phạm Thu", "took_part", "confirmed")
    s.recruit("Nguyễn Văn An", a1, "Võ Lâm", "joined", "confirmed", joined_as="union")
    s.recruit("Nguyễn Văn An", a1, "Bế Ly", "took_part", "confirmed", year=YEAR - 1)
    s.recruit("Trần Thị Bình", a1, None, "took_part", "declined")
    s.recruit("Trần Thị Bình", a1, "Lý Hạnh", "took_part", "pending")
    s.recruit("Phạm Thị Dung", a1, None, "took_part", "lapsed", verified=True)
    s.recruit("Phạm Thị Dung", a1, "Trịnh Quân", "contacted", "pending")
    s.recruit("Phạm Thị Dung", a1, None, "took_part", "duplicate", verified=True)
    s.plan(a1, 12)
    s.recruit("Hồ Văn Em", "AP-PT-A2", "Hồ Nhi", "took_part", "pending")
    s.recruit("Vũ Thị Hà", "AP-TH-12A1", "Kim Ngân", "took_part", "confirmed")
    s.recruit("Vũ Thị Hà", "AP-TH-12A1", None, "joined", "withdrawn", joined_as="federation")
    s.recruit("Mai Văn Khoa", "AP-TH-12A1", "Lâm Tú", "took_part", "confirmed")
    s.plan("AP-TH-12A1", 30, grade="good")
    s.recruit("Lý Thị Lan", "BT-A", "Bến Tre Trẻ", "took_part", "confirmed")
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


async def report_of(db: Database, code: str, *, names: bool = False, year: int = YEAR) -> Report:
    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code(code)
        assert unit is not None
        return await load_report(uow, unit, year, SETTINGS, TODAY, names=names)


def all_cells(data: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(data))
    return [
        str(c)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
    ]


def people_names() -> list[str]:
    return [name for name, *_ in MEMBERS] + list(YOUNG)


# --- the numbers -----------------------------------------------------------------------


async def test_the_province_adds_up(db: Database) -> None:
    report = await report_of(db, "AP")
    t = report.totals
    assert (t.branches, t.carried_out, t.planned, t.evaluated, t.reached_target) == (3, 2, 2, 1, 1)
    assert (t.members, t.target, t.reached) == (8, 4 + 2 + 4, 4)
    assert (t.recorded, t.took_part, t.joined_union, t.joined_federation) == (11, 7, 1, 1)
    assert (t.declined, t.waiting_young, t.waiting_secretary) == (1, 3, 2)
    by_code = {b.code: b for b in report.branches}
    assert list(by_code) == ["AP-PT-A1", "AP-PT-A2", "AP-TH-12A1"]  # no office, no Bến Tre
    a1, a2, school = by_code.values()
    assert (a1.figures.took_part, a1.figures.reached, a1.carried_out, a1.reached_target) == (
        4,
        3,
        True,
        True,
    )
    assert (a2.figures.took_part, a2.carried_out, a2.figures.waiting_secretary) == (0, False, 1)
    assert (school.per_member, school.figures.target, school.figures.reached) == (2, 4, 1)
    assert not school.reached_target  # 3 of 4
    assert a1.path == "Đoàn xã Phú Thịnh › Chi đoàn ấp 1"
    assert (a1.surveyed, a1.planned_on, a1.evaluated_on) == (12, date(2026, 3, 5), None)
    assert (school.grade, school.evaluated_on) == ("good", date(2026, 11, 10))
    assert report.targets == (1, 2)


async def test_sql_counts_agree_with_the_rules(db: Database) -> None:
    """Every stage, answer and confirmation, counted in SQL and by the pure rules."""
    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code("BT-A")
        assert unit is not None and unit.id is not None
        member = (await uow.recruits.branch_members(unit.id))[0].id
        expected = {"took_part": 1, "waiting_secretary": 0}  # Lan's own record
        for stage in ("contacted", "took_part", "joined"):
            for consent in ("pending", "confirmed", "declined", "lapsed", "withdrawn", "duplicate"):
                for verified in (False, True):
                    uow.session.add(
                        Recruit(
                            member_id=member,
                            unit_id=unit.id,
                            year=YEAR,
                            activity_on=date(YEAR, 4, 1),
                            stage=stage,
                            consent=consent,
                            verified_at=CONFIRMED_AT if verified else None,
                        )
                    )
                    expected["took_part"] += counts(stage, consent, verified)
                    expected["waiting_secretary"] += awaits_secretary(stage, consent, verified)
        await uow.session.flush()
        rows = await load_report_rows(uow.session, unit, YEAR)
        tally = rows.tallies[unit.id]
        assert (tally.took_part, tally.waiting_secretary) == (
            expected["took_part"],
            expected["waiting_secretary"],
        )
        assert tally.recorded == 1 + 36 and tally.declined == 6 and tally.waiting_young == 6
        assert rows.members[unit.id] == {expected["took_part"]: 1}  # Lan, with all of them
        by_member = await uow.recruits.counted_by_member([member], YEAR)
        assert by_member[member] == expected["took_part"]


async def test_a_pending_recruit_counts_once_the_secretary_confirms(db: Database) -> None:
    before = await report_of(db, "AP-PT-A2", names=True)
    assert before.totals.took_part == 0 and not before.branches[0].carried_out
    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code("AP-PT-A2")
        assert unit is not None and unit.id is not None
        [recruit] = await uow.recruits.for_unit(unit.id, YEAR)
        recruit.verified_at = CONFIRMED_AT
        await uow.recruits.save(recruit, CONFIRMED_AT)
        await uow.commit()
    after = await report_of(db, "AP-PT-A2", names=True)
    assert (after.totals.took_part, after.totals.waiting_secretary) == (1, 0)
    assert after.branches[0].carried_out


async def test_branch_figures_for_the_evaluation(db: Database) -> None:
    async with unit_of_work(db) as uow:
        a1 = await uow.units.by_code("AP-PT-A1")
        school = await uow.units.by_code("AP-PT")
        assert a1 is not None and school is not None
        figures = await branch_figures(uow, a1, YEAR, SETTINGS)
        assert figures == {
            "per_member": 1,
            "members": 4,
            "target": 4,
            "reached": 3,
            "recorded": 7,
            "took_part": 4,
            "joined_union": 1,
            "joined_federation": 0,
            "declined": 1,
            "waiting_young": 2,
            "waiting_secretary": 1,
            "carried_out": 1,
        }
        # A unit with branches under it: only its own roster and records (none).
        own = await branch_figures(uow, school, YEAR, SETTINGS)
        assert own["members"] == 0 and own["took_part"] == 0 and own["carried_out"] == 0


async def test_a_handful_of_queries_whatever_the_size(db: Database) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code("AP")
        assert unit is not None
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            await load_report(uow, unit, YEAR, SETTINGS, TODAY, names=False)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    # units, members (with their counts), recruits, plans; the target's ancestors
    assert len(statements) <= 5, statements


# --- the texts -------------------------------------------------------------------------


async def test_the_unions_totals_line(db: Database) -> None:
    report = await report_of(db, "AP")
    assert totals_line(report.totals, Translator("vi")) == (
        "67% chi đoàn thực hiện (2/3), 7 thanh niên tham gia, 1 vào Đoàn, 1 vào Hội; "
        "4/8 đoàn viên đạt chỉ tiêu."
    )
    assert totals_line(report.totals, Translator("en")) == (
        "67% of branches carried it out (2/3), 7 young people took part, 1 joined the Union, "
        "1 the Federation; 4/8 members reached their target."
    )


async def test_roll_up_text_names_units_never_people(db: Database) -> None:
    report = await report_of(db, "AP", names=True)  # a unit with units under it: a roll-up
    assert not report.named and report.members is None and report.recruits is None
    body = report_text(report, Translator("vi"))
    assert body.startswith("📋 “1+1” – Tỉnh đoàn An Phú, năm 2026 (tính đến 22/11/2026)\n67%")
    assert "🎯 Chỉ tiêu: mỗi đoàn viên vận động 1–2 thanh niên." in body
    assert "🗂 Kế hoạch: 2/3 chi đoàn đã lập, 1 đã đánh giá; 1 chi đoàn đạt chỉ tiêu." in body
    # Slowest first: Phú Thịnh carried it out in 1 of 2 branches, the school in 1 of 1.
    assert (
        "• Đoàn xã Phú Thịnh: 1/2 chi đoàn, 4 thanh niên, 3/6 đoàn viên đạt\n"
        "• Đoàn trường THPT Tân Hòa: 1/1 chi đoàn, 3 thanh niên, 1/2 đoàn viên đạt"
    ) in body
    assert "Văn phòng" not in body and "Bến Tre" not in body
    for name in people_names():
        assert name not in body


async def test_branch_text_who_has_and_who_has_not(db: Database) -> None:
    report = await report_of(db, "AP-PT-A1", names=True)
    body = report_text(report, Translator("vi"))
    assert body.startswith(
        "📋 “1+1” – Chi đoàn ấp 1, năm 2026 (tính đến 22/11/2026)\n"
        "1️⃣ Khảo sát: 12 thanh niên\n"
        "2️⃣ Kế hoạch: đã lập ngày 05/03/2026\n"
        "3️⃣ Thực hiện: 4 thanh niên tham gia\n"
        "4️⃣ Đánh giá: chưa\n"
    )
    assert "🎯 Đoàn viên đạt chỉ tiêu: 3/4 (mỗi người 1 thanh niên)" in body
    who = body[body.index("Ai đã, ai chưa:") :].splitlines()[1:5]
    assert who == [
        "⬜ Lê Văn Cường – 0/1 (chưa vào bot)",
        "✅ Nguyễn Văn An – 2/1",
        "✅ Phạm Thị Dung – 1/1",
        "✅ Trần Thị Bình – 1/1",
    ]
    assert "Võ Thị Xoá" not in body  # erased from the roster
    assert "Phạm Thu" in body and "Lý Hạnh" in body and "Trịnh Quân" in body
    assert body.count(" (ẩn danh) – ") == 3  # declined, lapsed, duplicate: no name
    assert "Bế Ly" not in body  # last year
    assert "Hồ Nhi" not in body  # another branch's
    assert len(body) < 2000  # one Zalo message


async def test_long_lists_are_cut_for_a_phone(db: Database) -> None:
    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code("AP-PT-A2")
        assert unit is not None
        for i in range(40):
            person = await uow.people.add(f"Đoàn viên {i:02d}", "vi", PersonStatus.ACTIVE)
            await uow.people.add_membership(person, unit, "member")
        await uow.commit()
    report = await report_of(db, "AP-PT-A2", names=True)
    body = report_text(report, Translator("vi"))
    assert "… và 12 nữa" in body  # 42 members, 30 shown
    assert len(report.members or ()) == 42


# --- the workbooks ---------------------------------------------------------------------


async def test_roll_up_workbook_names_nobody(db: Database) -> None:
    report = await report_of(db, "AP")
    data = report_workbook(report, Translator("vi"))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Tổng hợp", "Theo đơn vị", "Từng chi đoàn"]
    summary, units, branches = book.worksheets
    facts = {r[0]: r[1] for r in summary.iter_rows(min_row=3, values_only=True) if r[0]}
    assert facts["Năm"] == 2026 and facts["Tính đến ngày"] == datetime(2026, 11, 22)
    assert facts["Chỉ tiêu mỗi đoàn viên (thanh niên)"] == "1–2"
    assert (facts["Chi đoàn có đoàn viên"], facts["Chi đoàn thực hiện"]) == (3, 2)
    assert facts["Tỉ lệ chi đoàn thực hiện"] == pytest.approx(2 / 3)
    assert (facts["Thanh niên tham gia (được tính)"], facts["Vào Đoàn"], facts["Vào Hội"]) == (
        7,
        1,
        1,
    )
    assert summary["A2"].value.startswith("67% chi đoàn thực hiện (2/3)")
    assert [r[0] for r in units.iter_rows(min_row=2, values_only=True)] == ["AP-PT", "AP-TH"]
    header, *rows = list(branches.iter_rows(values_only=True))
    assert header[:6] == (
        "Mã",
        "Chi đoàn",
        "Chỉ tiêu mỗi đoàn viên",
        "Chỉ tiêu",
        "Đoàn viên",
        "Đoàn viên đạt",
    )
    by_code = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert list(by_code) == ["AP-PT-A1", "AP-PT-A2", "AP-TH-12A1"]
    school = by_code["AP-TH-12A1"]
    assert (
        school["Chỉ tiêu mỗi đoàn viên"],
        school["Chỉ tiêu"],
        school["Thanh niên tham gia"],
    ) == (
        2,
        4,
        3,
    )
    assert (school["Xếp loại"], school["Đã đánh giá"], school["Đạt chỉ tiêu"]) == (
        "Hoàn thành tốt",
        "Có",
        "Không",
    )
    assert by_code["AP-PT-A2"]["Thực hiện"] == "Không"
    assert by_code["AP-PT-A1"]["Ngày lập kế hoạch"] == datetime(2026, 3, 5)
    cells = " | ".join(all_cells(data))
    for name in people_names():
        assert name not in cells, name


async def test_branch_workbook_has_members_and_young_people(db: Database) -> None:
    report = await report_of(db, "AP-PT-A1", names=True)
    book = load_workbook(io.BytesIO(report_workbook(report, Translator("vi"))))
    assert book.sheetnames == ["Tổng hợp", "Từng chi đoàn", "Đoàn viên", "Thanh niên"]
    members = list(book["Đoàn viên"].iter_rows(values_only=True))
    assert members[0] == ("Họ tên", "Đã vào bot", "Số được tính", "Chỉ tiêu", "Đạt")
    assert members[1] == ("Lê Văn Cường", "Không", 0, 1, "Không")
    assert len(members) == 5
    young = list(book["Thanh niên"].iter_rows(values_only=True))
    header, rows = young[0], young[1:]
    assert header[0] == "Thanh niên" and len(rows) == 7
    named = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert named["Võ Lâm"]["Mức độ"] == "đã vào Đoàn"
    assert named["Võ Lâm"]["Đoàn viên vận động"] == "Nguyễn Văn An"
    assert named["Lý Hạnh"]["Được tính"] == "Không" and named["Lý Hạnh"]["Chờ bí thư"] == "Có"
    assert named["Phạm Thu"]["Ngày"] == datetime(2026, 5, 15)
    assert sum(1 for r in rows if r[0] == "(ẩn danh)") == 3


# --- the chat command ------------------------------------------------------------------

DOMAIN_TABLES = ("unit", "person", "membership", "recruit", "recruit_plan", "consent", "invite")


async def snapshot(app: App) -> dict[str, list[tuple[str, ...]]]:
    async with unit_of_work(app.db) as uow:
        return {
            table: sorted(
                tuple(map(str, r))
                for r in (await uow.session.execute(text(f"SELECT * FROM {table}"))).all()
            )
            for table in DOMAIN_TABLES
        }


async def reader(
    app: App, clock: MovableClock, chat: Chat, roles: list[tuple[str, str]], name: str
) -> None:
    """Someone on ``chat``'s channel with the given (unit code, role) memberships; an
    existing person of the set when ``name`` is theirs."""
    async with unit_of_work(app.db) as uow:
        found = (
            await uow.session.execute(
                text("SELECT id FROM person WHERE full_name = :n"), {"n": name}
            )
        ).scalar()
        person = await uow.people.get(found) if found else None
        if person is None:
            person = await uow.people.add(name, "vi", PersonStatus.ACTIVE)
        await uow.people.add_identity(
            person, chat.channel.channel.value, chat.user_id, chat.chat_id, clock()
        )
        for code, role in roles:
            unit = await uow.units.by_code(code)
            assert unit is not None
            await uow.people.add_membership(person, unit, role)
        await uow.commit()


async def seeded(app: App) -> None:
    async with unit_of_work(app.db) as uow:
        await seed_province(uow)
        await uow.commit()


async def document_of(app: App, clock: MovableClock, outs: list[Any]) -> tuple[str, bytes]:
    [document] = [o for o in outs if o.media_kind == DOCUMENT]
    async with unit_of_work(app.db) as uow:
        media = await uow.media.get(document.media_token or "", clock())
        assert media is not None
        return document.media_name or "", media.data


async def test_inspector_reads_the_roll_up_and_changes_nothing(
    app: App, clock: MovableClock, zalo_user: Chat
) -> None:
    await seeded(app)
    await reader(app, clock, zalo_user, [("AP", "inspector")], "Ngô Thị Kiểm")
    before = await snapshot(app)
    logged = await rows_in(app, ["media", "audit_log"])

    out = await zalo_user.says("bao cao 1+1")
    body = texts(out)
    assert "67% chi đoàn thực hiện (2/3), 7 thanh niên tham gia" in body
    assert "Tải file Excel" in body
    for name in people_names():
        assert name not in body
    assert await snapshot(app) == before
    assert await rows_in(app, ["media", "audit_log"]) == logged

    out = await zalo_user.says("tai file excel")
    name, data = await document_of(app, clock, out)
    assert name == "bao-cao-1-1-AP-2026-20261122.xlsx"
    cells = " | ".join(all_cells(data))
    assert "Chi đoàn 12A1" in cells and "Bến Tre" not in cells
    for person in people_names():
        assert person not in cells
    assert await snapshot(app) == before  # only the file and the audit entry were written
    after = await rows_in(app, ["media", "audit_log"])
    assert after == {"media": logged["media"] + 1, "audit_log": logged["audit_log"] + 1}
    async with unit_of_work(app.db) as uow:
        [(action, details)] = (
            await uow.session.execute(
                text("SELECT action, details FROM audit_log WHERE action LIKE 'oneplusone.%'")
            )
        ).all()
    assert action == "oneplusone.report_exported" and "2026" in str(details)


async def test_secretary_sees_their_own_branch_by_name(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    await seeded(app)
    await reader(app, clock, telegram_user, [], "Nguyễn Văn An")  # secretary of ấp 1
    out = await telegram_user.says("/baocao11")
    body = texts(out)
    assert "📋 “1+1” – Chi đoàn ấp 1, năm 2026" in body
    assert "⬜ Lê Văn Cường – 0/1 (chưa vào bot)" in body and "Phạm Thu" in body
    assert "Hồ Nhi" not in body and "Đặng Thị Giang" not in body  # ấp 2's
    out = await telegram_user.presses("Excel")
    _, data = await document_of(app, clock, out)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[-2:] == ["Đoàn viên", "Thanh niên"]
    cells = " | ".join(all_cells(data))
    assert "Hồ Nhi" not in cells and "Kim Ngân" not in cells and "Bến Tre" not in cells


async def test_a_leader_of_two_units_picks_one(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    await seeded(app)
    await reader(
        app, clock, telegram_user, [("AP-PT", "secretary"), ("BT", "standing")], "Phan Thị Nga"
    )
    out = await telegram_user.says("/baocao11")
    assert "của đơn vị nào" in texts(out)
    out = await telegram_user.presses("Phú Thịnh")
    body = texts(out)  # a grassroots secretary: the roll-up of its branches, no names
    # Its secretary is on its own roster, but a grassroots union is not a branch of one.
    assert "50% chi đoàn thực hiện (1/2), 4 thanh niên tham gia" in body
    assert "3/6 đoàn viên đạt chỉ tiêu" in body
    assert (
        "• Chi đoàn ấp 2: 0/1 chi đoàn, 0 thanh niên, 0/2 đoàn viên đạt\n"
        "• Chi đoàn ấp 1: 1/1 chi đoàn, 4 thanh niên, 3/4 đoàn viên đạt"
    ) in body
    assert "trực thuộc" not in body
    for name in people_names():
        assert name not in body


async def test_early_in_the_year_last_year_can_be_read(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    await seeded(app)
    await reader(app, clock, telegram_user, [], "Nguyễn Văn An")
    clock.now = datetime(2027, 2, 10, 3, tzinfo=UTC)
    out = await telegram_user.says("/baocao11")
    assert "năm nào" in texts(out)
    out = await telegram_user.presses("2026")
    assert "Chi đoàn ấp 1, năm 2026 (tính đến 10/02/2027)" in texts(out)
    assert "3️⃣ Thực hiện: 4 thanh niên tham gia" in texts(out)


async def test_members_may_not_read_it(app: App, clock: MovableClock, telegram_user: Chat) -> None:
    await seeded(app)
    await reader(app, clock, telegram_user, [], "Trần Thị Bình")  # a member only
    out = await telegram_user.says("/baocao11")
    assert "“1+1” –" not in texts(out)
