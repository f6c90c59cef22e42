"""Roster imports in storage: parsing, validation against the database, all-or-nothing apply.

These run on SQLite and, with DOANBOT_TEST_DATABASE_URL, on PostgreSQL too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import event
from sqlmodel import select

from storage.db import Database
from storage.imports import (
    MAX_DEPTH,
    ImportFailed,
    import_members,
    import_units,
    parse_role,
    read_members,
    read_units,
    roster,
)
from storage.models import (
    AuditEntry,
    ChannelIdentity,
    Invite,
    Membership,
    Person,
    PersonStatus,
    Role,
    Unit,
)
from storage.units import UnitRepository
from storage.uow import unit_of_work

NOW = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
UNIT_HEADER = "code,name,kind,parent_code\n"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


def write(tmp_path: Path, text: str, name: str = "units.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


async def load_units(db: Database, path: Path) -> None:
    parsed = read_units(path)
    async with unit_of_work(db) as uow:
        await import_units(uow, parsed)
        await uow.commit()


async def tree(db: Database) -> dict[str, tuple[str | None, int]]:
    """code -> (parent code, depth), after checking every stored path against its parent."""
    async with unit_of_work(db) as uow:
        units = list((await uow.session.exec(select(Unit))).all())
    by_id = {u.id: u for u in units}
    shape = {}
    for unit in units:
        parent = by_id.get(unit.parent_id)
        expected = f"{parent.path if parent else '/'}{unit.id}/"
        assert unit.path == expected, (unit.code, unit.path, expected)
        assert unit.depth == (parent.depth + 1 if parent else 0), unit.code
        shape[unit.code] = (parent.code if parent else None, unit.depth)
    return shape


async def subtree_codes(db: Database, code: str) -> list[str]:
    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code(code)
        assert unit is not None
        return [u.code for u in await UnitRepository(uow.session).subtree(unit)]


async def count(db: Database, model: type) -> int:
    async with unit_of_work(db) as uow:
        return len((await uow.session.exec(select(model))).all())


PROVINCE = (
    UNIT_HEADER
    + "AP-PT-A1,Chi đoàn ấp 1,branch,AP-PT\n"  # a child before its parent
    + "AP-PT,Đoàn xã Phú Thịnh,grassroots,AP\n"
    + "AP,Tỉnh đoàn An Phú,province,\n"
    + "AP-PT-A2,Chi đoàn ấp 2,branch,AP-PT\n"
    + "AP-TH,Đoàn trường THPT An Phú,grassroots,AP\n"
)


# --- units ---------------------------------------------------------------------------


async def test_units_in_any_order_make_a_tree(db: Database, tmp_path: Path) -> None:
    parsed = read_units(write(tmp_path, PROVINCE))
    async with unit_of_work(db) as uow:
        result = await import_units(uow, parsed)
        await uow.commit()
    assert sorted(result.created) == ["AP", "AP-PT", "AP-PT-A1", "AP-PT-A2", "AP-TH"]
    assert result.updated == [] and result.unchanged == []
    assert await tree(db) == {
        "AP": (None, 0),
        "AP-PT": ("AP", 1),
        "AP-PT-A1": ("AP-PT", 2),
        "AP-PT-A2": ("AP-PT", 2),
        "AP-TH": ("AP", 1),
    }
    assert await subtree_codes(db, "AP-PT") == ["AP-PT", "AP-PT-A1", "AP-PT-A2"]
    async with unit_of_work(db) as uow:
        audit = (await uow.session.exec(select(AuditEntry))).one()
    assert (audit.action, audit.actor) == ("units.imported", "cli")
    assert audit.details["created"] == 5 and audit.details["file"] == "units.csv"


async def test_reimport_updates_renames_and_moves_subtrees(db: Database, tmp_path: Path) -> None:
    await load_units(db, write(tmp_path, PROVINCE))
    # AP-PT (with its two branches) moves under the school; A1 is renamed; one new unit.
    again = (
        UNIT_HEADER
        + "AP-PT,Đoàn xã Phú Thịnh,grassroots,AP-TH\n"
        + "AP-PT-A1,Chi đoàn ấp Một,branch,AP-PT\n"
        + "AP-PT-A2,Chi đoàn ấp 2,branch,AP-PT\n"
        + "AP-PT-A3,Chi đoàn ấp 3,branch,AP-PT\n"
    )
    parsed = read_units(write(tmp_path, again, "again.csv"))
    async with unit_of_work(db) as uow:
        result = await import_units(uow, parsed)
        await uow.commit()
    assert result.created == ["AP-PT-A3"]
    assert sorted(result.updated) == ["AP-PT", "AP-PT-A1"]
    assert result.moved == ["AP-PT"]
    assert result.unchanged == ["AP-PT-A2"]

    shape = await tree(db)
    assert shape["AP-PT"] == ("AP-TH", 2)
    assert shape["AP-PT-A1"] == ("AP-PT", 3)
    assert shape["AP-PT-A3"] == ("AP-PT", 3)
    codes = await subtree_codes(db, "AP-TH")
    assert codes[0] == "AP-TH"
    assert sorted(codes[1:]) == ["AP-PT", "AP-PT-A1", "AP-PT-A2", "AP-PT-A3"]
    assert await subtree_codes(db, "AP-PT") == ["AP-PT", "AP-PT-A1", "AP-PT-A2", "AP-PT-A3"]
    assert "AP-PT-A1" in await subtree_codes(db, "AP")
    async with unit_of_work(db) as uow:
        a1 = await uow.units.by_code("AP-PT-A1")
        assert a1 is not None and a1.name == "Chi đoàn ấp Một"


async def test_parent_and_child_swap_places(db: Database, tmp_path: Path) -> None:
    """The child becomes the root and the old root hangs under it: the move order matters."""
    await load_units(db, write(tmp_path, PROVINCE))
    swap = UNIT_HEADER + "AP,Tỉnh đoàn An Phú,province,AP-PT\nAP-PT,Đoàn xã Phú Thịnh,grassroots,\n"
    await load_units(db, write(tmp_path, swap, "swap.csv"))
    shape = await tree(db)
    assert shape["AP-PT"] == (None, 0)
    assert shape["AP"] == ("AP-PT", 1)
    assert shape["AP-TH"] == ("AP", 2)
    assert shape["AP-PT-A1"] == ("AP-PT", 1)
    assert sorted(await subtree_codes(db, "AP-PT")) == sorted(shape)


async def test_moves_through_new_units_and_moved_parents(db: Database, tmp_path: Path) -> None:
    await load_units(db, write(tmp_path, PROVINCE))
    # A new district under the school, which itself moves under A2; A1 moves into the
    # new district. Every path must still agree with its parent's.
    tricky = (
        UNIT_HEADER
        + "AP-PT-A1,Chi đoàn ấp 1,branch,HUYEN\n"
        + "HUYEN,Huyện đoàn,district,AP-TH\n"
        + "AP-TH,Đoàn trường THPT An Phú,grassroots,AP-PT-A2\n"
    )
    await load_units(db, write(tmp_path, tricky, "tricky.csv"))
    shape = await tree(db)
    assert shape["AP-TH"] == ("AP-PT-A2", 3)
    assert shape["HUYEN"] == ("AP-TH", 4)
    assert shape["AP-PT-A1"] == ("HUYEN", 5)
    assert await subtree_codes(db, "AP-PT-A2") == ["AP-PT-A2", "AP-TH", "HUYEN", "AP-PT-A1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (UNIT_HEADER + "A,A,x,B\nB,B,x,A\n", [(2, "cli.units.cycle")]),
        (UNIT_HEADER + "A,A,x,A\n", [(2, "cli.units.own_parent")]),
        (UNIT_HEADER + "A,A,x,NOPE\n", [(2, "cli.units.unknown_parent")]),
        (UNIT_HEADER + "A,A,x,\nA,Again,x,\n", [(3, "cli.units.duplicate_code")]),
        # a child of a row with problems is not blamed for it
        (UNIT_HEADER + "A,,x,\nB,B,x,A\n", [(2, "cli.units.name_missing")]),
        (
            UNIT_HEADER + ",A,x,\nB,,x,\nC,C,,\n" + "D" * 65 + ",D,x,\nE," + "e" * 256 + ",x,\n",
            [
                (2, "cli.units.code_missing"),
                (3, "cli.units.name_missing"),
                (4, "cli.units.kind_missing"),
                (5, "cli.units.code_too_long"),
                (6, "cli.units.name_too_long"),
            ],
        ),
        ("code,name,kind\nA,A,x\n", [(1, "cli.import.missing_column")]),
        ("code,name,kind,parent_code,extra\nA,A,x,,\n", [(1, "cli.import.unknown_column")]),
        (UNIT_HEADER + "A,A,x,,surplus\n", [(2, "cli.import.value_without_column")]),
    ],
)
async def test_invalid_units_write_nothing(
    db: Database, tmp_path: Path, text: str, expected: list[tuple[int, str]]
) -> None:
    await load_units(db, write(tmp_path, PROVINCE, "province.csv"))
    before = await tree(db)
    with pytest.raises(ImportFailed) as failed:
        await load_units(db, write(tmp_path, text))
    found = [(e.row, e.key) for e in failed.value.errors if e.key != "cli.import.expected_header"]
    assert found == expected
    assert await tree(db) == before
    assert await count(db, AuditEntry) == 1  # the first import's only


async def test_cycle_through_units_already_stored(db: Database, tmp_path: Path) -> None:
    await load_units(db, write(tmp_path, PROVINCE))
    # AP-PT-A1 is under AP-PT in the database: AP-PT under AP-PT-A1 would close a loop.
    with pytest.raises(ImportFailed) as failed:
        await load_units(
            db, write(tmp_path, UNIT_HEADER + "AP-PT,Xã,grassroots,AP-PT-A1\n", "c.csv")
        )
    [error] = failed.value.errors
    assert error.row == 2 and error.key == "cli.units.cycle"
    assert error.params["chain"] == "AP-PT → AP-PT-A1 → AP-PT"
    assert (await tree(db))["AP-PT"] == ("AP", 1)


async def test_a_tree_too_deep_for_paths_is_refused(db: Database, tmp_path: Path) -> None:
    rows = [f"U{i},Unit {i},level,{f'U{i - 1}' if i else ''}" for i in range(MAX_DEPTH + 2)]
    with pytest.raises(ImportFailed) as failed:
        await load_units(db, write(tmp_path, UNIT_HEADER + "\n".join(rows) + "\n"))
    assert [e.key for e in failed.value.errors] == ["cli.units.too_deep"]
    assert await count(db, Unit) == 0


async def test_thousands_of_units_take_a_handful_of_queries(db: Database, tmp_path: Path) -> None:
    lines = [UNIT_HEADER, "P,Tỉnh đoàn,province,\n"]
    for d in range(30):
        lines.append(f"D{d},Huyện đoàn {d},district,P\n")
        for c in range(10):
            lines.append(f"D{d}-C{c},Đoàn xã {d}.{c},grassroots,D{d}\n")
            lines += [f"D{d}-C{c}-B{b},Chi đoàn {b},branch,D{d}-C{c}\n" for b in range(10)]
    lines.reverse()  # children first, header last...
    lines.insert(0, lines.pop())  # ...except the header
    path = write(tmp_path, "".join(lines))

    statements: Counter[str] = Counter()

    def counter(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements[statement.split()[0].upper()] += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", counter)
    await load_units(db, path)
    event.remove(db.engine.sync_engine, "before_cursor_execute", counter)
    assert await count(db, Unit) == 1 + 30 + 300 + 3000
    # No query per row of our own: one SELECT of the units, batched path UPDATEs. SQLite's
    # driver cannot batch INSERT ... RETURNING, so SQLAlchemy inserts row by row there.
    assert statements["SELECT"] <= 2 and statements["UPDATE"] <= 10, statements
    if not db.is_sqlite:
        assert sum(statements.values()) < 60, statements
    assert len(await subtree_codes(db, "D7")) == 111


async def test_xlsx_first_sheet_numbers_and_blank_rows(db: Database, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Code", "Name", "Kind", "Parent_Code"])
    sheet.append([10, "Tỉnh đoàn", "province", None])
    sheet.append([None, None, None, None])  # blank: skipped, but still counts as a row
    sheet.append([11.0, "  Đoàn   xã ", "grassroots", 10])
    other = book.create_sheet("notes")
    other.append(["ignored"])
    path = tmp_path / "units.xlsx"
    book.save(path)

    parsed = read_units(path)
    assert [(r.row, r.code, r.name, r.parent_code) for r in parsed.rows] == [
        (2, "10", "Tỉnh đoàn", None),
        (4, "11", "Đoàn xã", "10"),
    ]
    await load_units(db, path)
    assert await tree(db) == {"10": (None, 0), "11": ("10", 1)}


def test_semicolons_bom_and_crlf(tmp_path: Path) -> None:
    text = "\ufeffCODE ; Name ;kind;Parent_code\r\nAP;Tỉnh đoàn An Phú;province;\r\n\r\n"
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("utf-8"))
    parsed = read_units(path)
    assert parsed.problems == []
    assert [(r.row, r.code, r.name) for r in parsed.rows] == [(2, "AP", "Tỉnh đoàn An Phú")]


@pytest.mark.parametrize(
    ("content", "key"),
    [
        (b"", "cli.import.empty_file"),
        (b"code,name,kind,parent_code\n", "cli.import.no_rows"),
        ("code,name,kind,parent_code\nA,Đoàn,x,\n".encode("cp1258"), "cli.import.not_utf8"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", "cli.import.xls_unsupported"),
        (b"PK\x03\x04not really a zip", "cli.import.bad_xlsx"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, key: str) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFailed) as failed:
        read_units(path)
    assert [e.key for e in failed.value.errors] == [key]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as failed:
        read_units(tmp_path / "nope.csv")
    assert failed.value.errors[0].key == "cli.import.file_missing"


# --- members -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("member", Role.MEMBER),
        ("Đoàn viên", Role.MEMBER),
        ("DOAN VIEN", Role.MEMBER),
        ("Bí thư", Role.SECRETARY),
        ("phó bí thư", Role.DEPUTY),
        ("Phó Bí Thư ", Role.DEPUTY),
        ("cán bộ", Role.CADRE),
        ("Cán bộ chuyên trách", Role.CADRE),
        ("thường vụ", Role.STANDING),
        ("Ban Thường vụ", Role.STANDING),
        ("kiểm tra", Role.INSPECTOR),
        ("Ủy ban Kiểm tra", Role.INSPECTOR),
        ("Uỷ ban kiểm tra", Role.INSPECTOR),
        ("quản trị", Role.ADMIN),
        ("deputy secretary", Role.DEPUTY),
        ("", None),
        ("chủ tịch", None),
    ],
)
def test_roles_in_words(text: str, role: Role | None) -> None:
    assert parse_role(text) == role


MEMBERS = (
    "full_name,unit_code,role\n"
    "  nguyễn   văn an ,AP-PT-A1,Đoàn viên\n"
    "Trần Thị Bình,AP-PT-A1,BÍ THƯ\n"
    ",,\n"
    "Lê Văn Cường,AP-PT,phó bí thư\n"
)


async def test_members_become_invited_people_with_personal_invites(
    db: Database, tmp_path: Path
) -> None:
    await load_units(db, write(tmp_path, PROVINCE))
    parsed = read_members(write(tmp_path, MEMBERS, "members.csv"))
    async with unit_of_work(db) as uow:
        imported = await import_members(
            uow, parsed, now=NOW, valid_for=timedelta(days=30), locale="vi"
        )
        await uow.commit()

    assert [(m.row, m.full_name, m.unit_code, m.role) for m in imported] == [
        (2, "Nguyễn Văn An", "AP-PT-A1", Role.MEMBER),
        (3, "Trần Thị Bình", "AP-PT-A1", Role.SECRETARY),
        (5, "Lê Văn Cường", "AP-PT", Role.DEPUTY),
    ]
    assert len({m.code for m in imported}) == 3
    async with unit_of_work(db) as uow:
        for m in imported:
            invite = await uow.invites.by_code(m.code)
            assert invite is not None
            assert (invite.person_id, invite.role, invite.max_uses) == (m.person_id, m.role, 1)
            assert invite.expires_at == NOW + timedelta(days=30)
            assert uow.invites.problem(invite, NOW) is None
            person = await uow.people.get(m.person_id)
            assert person is not None
            assert (person.full_name, person.status) == (m.full_name, PersonStatus.INVITED)
            [(membership, unit)] = await uow.people.memberships(m.person_id)
            assert (membership.role, unit.code) == (m.role, m.unit_code)
        audit = (
            await uow.session.exec(
                select(AuditEntry).where(AuditEntry.action == "members.imported")
            )
        ).one()
        assert audit.actor == "cli" and audit.details["people"] == 3
        assert "Nguyễn" not in str(audit.details)  # no personal data in the log


async def test_bad_member_rows_write_nothing(db: Database, tmp_path: Path) -> None:
    await load_units(db, write(tmp_path, PROVINCE))
    text = (
        "full_name,unit_code,role\n"
        "Nguyễn Văn An,AP-PT-A1,đoàn viên\n"
        "Trần Thị Bình,NOWHERE,bí thư\n"
        "An,AP-PT,đoàn viên\n"
        "Nguyễn Văn 3,AP-PT,đoàn viên\n"
        f"{'Nguyễn ' * 20}An,AP-PT,đoàn viên\n"
        "Lê Văn Cường,AP-PT,chủ tịch\n"
        "Phạm Thị Dung,AP-PT,\n"
    )
    parsed = read_members(write(tmp_path, text, "members.csv"))
    with pytest.raises(ImportFailed) as failed:
        async with unit_of_work(db) as uow:
            await import_members(uow, parsed, now=NOW, valid_for=timedelta(days=30), locale="vi")
            await uow.commit()
    assert [(e.row, e.key) for e in failed.value.errors] == [
        (3, "cli.members.unknown_unit"),
        (4, "cli.members.name_too_short"),
        (5, "cli.members.name_invalid"),
        (6, "cli.members.name_too_long"),
        (7, "cli.members.role_unknown"),
        (8, "cli.members.role_missing"),
    ]
    for model in (Person, Membership, Invite):
        assert await count(db, model) == 0


async def test_roster_lists_channels_and_blocked_ones(db: Database, tmp_path: Path) -> None:
    await load_units(db, write(tmp_path, PROVINCE))
    parsed = read_members(write(tmp_path, MEMBERS, "members.csv"))
    async with unit_of_work(db) as uow:
        imported = await import_members(
            uow, parsed, now=NOW, valid_for=timedelta(days=30), locale="vi"
        )
        binh = await uow.people.get(imported[1].person_id)
        assert binh is not None
        binh.status = PersonStatus.ACTIVE
        await uow.people.add_identity(binh, "zalo", "zu1", "zu1", NOW)
        telegram = await uow.people.add_identity(binh, "telegram", "501", "501", NOW)
        telegram.reachable = False
        await uow.commit()

    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code("AP-PT")
        assert unit is not None
        lines = await roster(uow, unit)
    assert [(x.full_name, x.unit_code, x.role, x.status) for x in lines] == [
        ("Lê Văn Cường", "AP-PT", "deputy", "invited"),
        ("Nguyễn Văn An", "AP-PT-A1", "member", "invited"),
        ("Trần Thị Bình", "AP-PT-A1", "secretary", "active"),
    ]
    assert [(c.channel, c.reachable) for c in lines[2].channels] == [
        ("telegram", False),
        ("zalo", True),
    ]
    assert lines[0].channels == []
    assert await count(db, ChannelIdentity) == 2
