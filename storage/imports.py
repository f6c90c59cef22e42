"""Roster files: units and members from CSV or XLSX, validated whole, applied all or nothing.

Reading a file (``read_units``, ``read_members``) is plain synchronous I/O and checks what
can be checked without the database. ``import_units`` and ``import_members`` then check the
rows against the database, and either raise :class:`ImportFailed` with every problem found
or apply all rows in the caller's unit of work (the caller commits). Problems are catalog
keys (``cli.…``) with parameters and the row number an operator sees in Excel: the header
is row 1. Nothing here prints.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlmodel import col, select

from bot.i18n import N_, SUPPORTED, translate
from bot.matching import fold
from handlers.people import NAME_MAX, clean_name, name_problem
from storage.codes import new_code
from storage.models import (
    ChannelIdentity,
    Invite,
    LinkCode,
    Membership,
    Person,
    PersonStatus,
    Role,
    Unit,
)
from storage.uow import UnitOfWork

UNIT_COLUMNS = ("code", "name", "kind", "parent_code")
MEMBER_COLUMNS = ("full_name", "unit_code", "role")

CODE_MAX = 64  # Unit.code
UNIT_NAME_MAX = 255  # Unit.name
KIND_MAX = 64  # Unit.kind
# Unit.path is a String(255) of ancestor ids: keep trees well inside it.
MAX_DEPTH = 20

_IN_CHUNK = 500  # ids or codes per "IN (...)" query
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old binary .xls

T = TypeVar("T")


class RowProblem(NamedTuple):
    """One thing wrong with a file: its row (1 = header, 0 = the file itself), a catalog key."""

    row: int
    key: str
    params: dict[str, Any] = {}  # noqa: RUF012  (never mutated)


class ImportFailed(Exception):
    """The file cannot be imported; nothing was written. ``errors`` are sorted by row."""

    def __init__(self, errors: Iterable[RowProblem]) -> None:
        self.errors = sorted(errors, key=lambda e: e.row)
        super().__init__(f"{len(self.errors)} problem(s): {self.errors[:3]}")


# --- reading files -------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    header_row: int
    # (row number, values by column name) for each row that is not blank
    rows: list[tuple[int, dict[str, str]]]
    problems: list[RowProblem]


def _text(value: object) -> str:
    """A cell as text, NFC, trimmed: Excel gives numbers for codes like 101."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime | date):
        value = value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _raw_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every record of a CSV or the first sheet of an XLSX file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        raise ImportFailed(
            [RowProblem(0, N_("cli.import.file_missing"), {"file": str(path)})]
        ) from None
    except OSError as exc:
        raise ImportFailed(
            [RowProblem(0, N_("cli.import.file_unreadable"), {"file": str(path), "error": exc})]
        ) from None
    if head.startswith(_OLE_MAGIC):
        raise ImportFailed([RowProblem(0, N_("cli.import.xls_unsupported"))])
    if head.startswith(_ZIP_MAGIC) or path.suffix.lower() in _XLSX_SUFFIXES:
        yield from _xlsx_rows(path)
    else:
        yield from _csv_rows(path)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportFailed([RowProblem(0, N_("cli.import.bad_xlsx"))]) from None
    try:
        if not workbook.worksheets:
            raise ImportFailed([RowProblem(0, N_("cli.import.bad_xlsx"))])
        sheet = workbook.worksheets[0]
        # Read-only mode trusts the file's stated dimensions, which some tools get wrong.
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            yield number, [_text(v) for v in values]
    finally:
        workbook.close()


def _delimiter(text: str) -> str:
    """Excel in Vietnam often writes ";" (the decimal separator is ","); tabs happen too."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([RowProblem(0, N_("cli.import.not_utf8"))]) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    number = 0
    try:
        for number, values in enumerate(reader, start=1):
            yield number, [_text(v) for v in values]
    except csv.Error as exc:
        raise ImportFailed(
            [RowProblem(number + 1, N_("cli.import.bad_csv"), {"error": str(exc)})]
        ) from None


def _read_table(path: Path, columns: Sequence[str]) -> _Table:
    """Rows of a file whose header names ``columns`` (any order, any case). Raises on a bad
    header; values outside the named columns are reported per row."""
    rows = _raw_rows(path)
    header_row, header = next(((n, cells) for n, cells in rows if any(cells)), (0, []))
    if not header:
        raise ImportFailed([RowProblem(0, N_("cli.import.empty_file"))])

    problems: list[RowProblem] = []
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = cell.replace("\ufeff", "").strip().lower()
        if not name:
            continue
        if name not in columns:
            problems.append(
                RowProblem(header_row, N_("cli.import.unknown_column"), {"column": cell})
            )
        elif name in index:
            problems.append(
                RowProblem(header_row, N_("cli.import.duplicate_column"), {"column": cell})
            )
        else:
            index[name] = i
    problems += [
        RowProblem(header_row, N_("cli.import.missing_column"), {"column": name})
        for name in columns
        if name not in index
    ]
    if problems:
        problems.append(
            RowProblem(header_row, N_("cli.import.expected_header"), {"header": ",".join(columns)})
        )
        raise ImportFailed(problems)

    known = set(index.values())
    table_rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in rows:
        if not any(cells):
            continue  # blank rows (and Excel's trailing formatted rows) are skipped
        stray = [i for i, v in enumerate(cells) if v and i not in known]
        if stray:
            problems.append(
                RowProblem(number, N_("cli.import.value_without_column"), {"column": stray[0] + 1})
            )
            continue
        values = {name: cells[i] if i < len(cells) else "" for name, i in index.items()}
        table_rows.append((number, values))
    if not table_rows and not problems:
        raise ImportFailed([RowProblem(0, N_("cli.import.no_rows"))])
    return _Table(header_row, table_rows, problems)


def _chunks(items: Sequence[T], size: int = _IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- units ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRow:
    row: int
    code: str
    name: str
    kind: str
    parent_code: str | None


@dataclass(frozen=True)
class UnitsFile:
    source: str
    rows: list[UnitRow]  # the rows without problems of their own
    problems: list[RowProblem]
    # Every code in the file, also on rows with problems: a child of such a row is not
    # reported as having an unknown parent too.
    codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UnitsImported:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # name, kind or parent changed
    moved: list[str] = field(default_factory=list)  # a subset of ``updated``
    unchanged: list[str] = field(default_factory=list)


def read_units(path: Path) -> UnitsFile:
    """Parse a units file (``code,name,kind,parent_code``) and check each row on its own."""
    table = _read_table(path, UNIT_COLUMNS)
    problems = list(table.problems)
    rows: list[UnitRow] = []
    first_row: dict[str, int] = {}
    for number, values in table.rows:
        code, kind = values["code"], _collapse(values["kind"])
        name, parent = _collapse(values["name"]), values["parent_code"]
        found = []
        for value, missing, too_long, limit in (
            (code, N_("cli.units.code_missing"), N_("cli.units.code_too_long"), CODE_MAX),
            (name, N_("cli.units.name_missing"), N_("cli.units.name_too_long"), UNIT_NAME_MAX),
            (kind, N_("cli.units.kind_missing"), N_("cli.units.kind_too_long"), KIND_MAX),
        ):
            if not value:
                found.append(RowProblem(number, missing))
            elif len(value) > limit:
                found.append(RowProblem(number, too_long, {"max": limit}))
        if code in first_row:
            found.append(
                RowProblem(
                    number, N_("cli.units.duplicate_code"), {"code": code, "first": first_row[code]}
                )
            )
        elif code:
            first_row[code] = number
        if code and code == parent:
            found.append(RowProblem(number, N_("cli.units.own_parent"), {"code": code}))
        problems += found
        if not found:
            rows.append(UnitRow(number, code, name, kind, parent or None))
    return UnitsFile(path.name, rows, problems, frozenset(first_row))


def _check_tree(
    rows: Sequence[UnitRow], existing: dict[str, Unit], codes: frozenset[str] = frozenset()
) -> tuple[dict[str, int], list[RowProblem]]:
    """The depth of every unit in the tree after the import, and its problems: unknown
    parents, cycles (also through units already in the database), trees too deep. O(units)."""
    problems: list[RowProblem] = []
    by_code = {r.code: r for r in rows}
    code_of = {u.id: u.code for u in existing.values()}
    parent: dict[str, str | None] = {
        u.code: code_of.get(u.parent_id) if u.parent_id is not None else None
        for u in existing.values()
    }
    for r in rows:
        pc = r.parent_code
        if pc is not None and pc not in by_code and pc not in existing and pc not in codes:
            problems.append(
                RowProblem(
                    r.row, N_("cli.units.unknown_parent"), {"code": r.code, "parent": r.parent_code}
                )
            )
            parent[r.code] = None  # reported; keep it out of the cycle search
        else:
            parent[r.code] = r.parent_code

    depth: dict[str, int] = {}
    visiting: set[str] = set()
    for start in parent:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node not in depth and node not in visiting:
            visiting.add(node)
            chain.append(node)
            node = parent.get(node)  # None also for a parent on a row with problems
        if node is not None and node in visiting:
            loop = chain[chain.index(node) :]
            row = min((by_code[c].row for c in loop if c in by_code), default=0)
            problems.append(
                RowProblem(row, N_("cli.units.cycle"), {"chain": " → ".join([*loop, node])})
            )
            node = None  # depths in a loop are meaningless; the import fails anyway
        d = depth[node] + 1 if node is not None else 0
        for code in reversed(chain):
            depth[code] = d
            d += 1
        visiting.clear()

    too_deep: set[int] = set()
    for code, d in depth.items():
        if d > MAX_DEPTH:
            culprit: str | None = code  # the nearest unit of the file at or above it
            while culprit is not None and culprit not in by_code:
                culprit = parent.get(culprit)
            if culprit is None:
                continue  # deep already, and the file does not touch it
            row = by_code[culprit].row
            if row not in too_deep:
                too_deep.add(row)
                problems.append(
                    RowProblem(row, N_("cli.units.too_deep"), {"code": code, "max": MAX_DEPTH + 1})
                )
    return depth, problems


async def import_units(uow: UnitOfWork, units: UnitsFile, *, actor: str = "cli") -> UnitsImported:
    """Create or update every unit of ``units`` in ``uow``, or raise :class:`ImportFailed`.

    Rows may come in any order. Existing units (same code) get the file's name and kind,
    and are moved with :meth:`UnitRepository.move` when their parent changes. The caller
    commits. Units loaded in ``uow`` before a move are detached afterwards (their paths
    would be stale); query again.
    """
    existing = {u.code: u for u in await uow.units.all()}
    depth, problems = _check_tree(units.rows, existing, units.codes)
    problems = units.problems + problems
    if problems:
        raise ImportFailed(problems)

    result = UnitsImported()
    by_id = {u.id: u for u in existing.values()}
    new_rows = sorted(
        (r for r in units.rows if r.code not in existing), key=lambda r: depth[r.code]
    )
    changed_parent = []
    for r in units.rows:
        unit = existing.get(r.code)
        if unit is None:
            continue
        old_parent = by_id[unit.parent_id].code if unit.parent_id is not None else None
        if old_parent != r.parent_code:
            changed_parent.append(r)
        if old_parent != r.parent_code or unit.name != r.name or unit.kind != r.kind:
            result.updated.append(r.code)
        else:
            result.unchanged.append(r.code)

    # 1. New units, a level at a time: one flush per level (a batched INSERT where the
    #    driver can return many ids at once; SQLite's cannot) and one for their paths.
    #    Parents' paths are the ones before any move; a later move carries them along.
    units_by_code = dict(existing)
    level_start = 0
    while level_start < len(new_rows):
        level = depth[new_rows[level_start].code]
        level_rows = [r for r in new_rows[level_start:] if depth[r.code] == level]
        level_start += len(level_rows)
        created = []
        for r in level_rows:
            parent = units_by_code[r.parent_code] if r.parent_code else None
            unit = Unit(
                code=r.code, name=r.name, kind=r.kind, parent_id=parent.id if parent else None
            )
            created.append((unit, parent))
            units_by_code[r.code] = unit
        uow.session.add_all([u for u, _ in created])
        await uow.session.flush()
        for unit, parent in created:
            unit.path = f"{parent.path if parent else '/'}{unit.id}/"
            unit.depth = parent.depth + 1 if parent else 0
        await uow.session.flush()
        result.created.extend(r.code for r in level_rows)

    # 2. Moves, top of the final tree first: then a new parent's ancestors are already
    #    where they end up, so it can never lie inside the subtree being moved.
    #    ``move`` rewrites paths in bulk without touching loaded objects: refresh first.
    for r in sorted(changed_parent, key=lambda r: depth[r.code]):
        unit = units_by_code[r.code]
        new_parent = units_by_code[r.parent_code] if r.parent_code else None
        await uow.session.refresh(unit)
        if new_parent is not None:
            await uow.session.refresh(new_parent)
        await uow.units.move(unit, new_parent)
        result.moved.append(r.code)

    # 3. Names and kinds (only those columns are written: stale paths are never flushed).
    for r in units.rows:
        unit = existing.get(r.code)
        if unit is not None and (unit.name != r.name or unit.kind != r.kind):
            unit.name, unit.kind = r.name, r.kind
            uow.session.add(unit)
    await uow.session.flush()
    if result.moved:
        uow.session.expunge_all()

    uow.audit.record(
        "units.imported",
        "unit",
        None,
        actor=actor,
        file=units.source,
        created=len(result.created),
        updated=len(result.updated),
        moved=len(result.moved),
    )
    await uow.session.flush()
    return result


# --- members -------------------------------------------------------------------------

# Vietnamese words for roles, folded (lower case, no diacritics). The English values and
# the catalogs' role names ("role.*" in every language) are accepted too.
_ROLE_WORDS = {
    "doan vien": Role.MEMBER,
    "bi thu": Role.SECRETARY,
    "pho bi thu": Role.DEPUTY,
    "can bo": Role.CADRE,
    "can bo chuyen trach": Role.CADRE,
    "thuong vu": Role.STANDING,
    "ban thuong vu": Role.STANDING,
    "kiem tra": Role.INSPECTOR,
    "uy ban kiem tra": Role.INSPECTOR,
    "quan tri": Role.ADMIN,
    "quan tri vien": Role.ADMIN,
}


@cache
def _role_names() -> dict[str, Role]:
    names = dict(_ROLE_WORDS)
    for role in Role:
        names[fold(role.value)] = role
        for locale in SUPPORTED:
            key = f"role.{role.value}"
            text = translate(locale, key)
            if text != key:
                names.setdefault(fold(text), role)
    return names


def parse_role(text: str) -> Role | None:
    """``"Phó Bí thư"``, ``"pho bi thu"`` and ``"deputy"`` are all :attr:`Role.DEPUTY`."""
    return _role_names().get(fold(text)) if text.strip() else None


# name_problem's keys speak to the person joining; a file needs its own wording.
_NAME_PROBLEMS = {
    "name.too_long": N_("cli.members.name_too_long"),
    "name.invalid": N_("cli.members.name_invalid"),
    "name.too_short": N_("cli.members.name_too_short"),
}


@dataclass(frozen=True)
class MemberRow:
    row: int
    full_name: str
    unit_code: str
    role: Role


@dataclass(frozen=True)
class MembersFile:
    source: str
    rows: list[MemberRow]
    problems: list[RowProblem]


@dataclass(frozen=True)
class ImportedMember:
    row: int
    person_id: int
    full_name: str
    unit_code: str
    unit_name: str
    role: Role
    code: str
    expires_at: datetime


def read_members(path: Path) -> MembersFile:
    """Parse a members file (``full_name,unit_code,role``) and check each row on its own."""
    table = _read_table(path, MEMBER_COLUMNS)
    problems = list(table.problems)
    rows: list[MemberRow] = []
    for number, values in table.rows:
        found: list[RowProblem] = []
        name = clean_name(values["full_name"])
        if not name:
            found.append(RowProblem(number, N_("cli.members.name_missing")))
        else:
            problem = name_problem(name)
            if problem is not None:
                key = _NAME_PROBLEMS.get(problem, N_("cli.members.name_invalid"))
                found.append(RowProblem(number, key, {"name": name, "max": NAME_MAX}))
        unit_code = values["unit_code"]
        if not unit_code:
            found.append(RowProblem(number, N_("cli.members.unit_missing")))
        role = parse_role(values["role"])
        if role is None:
            key = (
                N_("cli.members.role_unknown") if values["role"] else N_("cli.members.role_missing")
            )
            found.append(RowProblem(number, key, {"role": values["role"]}))
        problems += found
        if not found:
            assert role is not None
            rows.append(MemberRow(number, name, unit_code, role))
    return MembersFile(path.name, rows, problems)


async def _unused_codes(uow: UnitOfWork, n: int) -> list[str]:
    """``n`` distinct codes used by no invite and no link code: a query per 500, not per code."""
    codes: set[str] = set()
    while len(codes) < n:
        fresh = list({new_code() for _ in range(n - len(codes))} - codes)
        taken: set[str] = set()
        for chunk in _chunks(fresh):
            for model in (Invite, LinkCode):
                found = await uow.session.exec(select(model.code).where(col(model.code).in_(chunk)))
                taken.update(found.all())
        codes.update(c for c in fresh if c not in taken)
    return list(codes)


async def units_by_code(uow: UnitOfWork, codes: Iterable[str]) -> dict[str, Unit]:
    wanted = sorted(set(codes))
    units: dict[str, Unit] = {}
    for chunk in _chunks(wanted):
        found = await uow.session.exec(select(Unit).where(col(Unit.code).in_(chunk)))
        units.update((u.code, u) for u in found.all())
    return units


async def import_members(
    uow: UnitOfWork,
    members: MembersFile,
    *,
    now: datetime,
    valid_for: timedelta,
    locale: str,
    actor: str = "cli",
) -> list[ImportedMember]:
    """Add everyone in ``members`` to the roster, or raise :class:`ImportFailed`.

    Each row becomes a person with status ``invited`` (they have not agreed to anything
    yet), their role in the unit, and a personal single-use invite. The caller commits.
    """
    units = await units_by_code(uow, (r.unit_code for r in members.rows))
    problems = members.problems + [
        RowProblem(r.row, N_("cli.members.unknown_unit"), {"code": r.unit_code})
        for r in members.rows
        if r.unit_code not in units
    ]
    if problems:
        raise ImportFailed(problems)
    rows = members.rows

    people = [
        Person(full_name=r.full_name, locale=locale, status=PersonStatus.INVITED) for r in rows
    ]
    uow.session.add_all(people)
    await uow.session.flush()  # one batched INSERT for all of them

    memberships = []
    for r, person in zip(rows, people, strict=True):
        assert person.id is not None
        unit_id = units[r.unit_code].id
        assert unit_id is not None
        memberships.append(Membership(person_id=person.id, unit_id=unit_id, role=r.role))
    uow.session.add_all(memberships)

    codes = await _unused_codes(uow, len(rows))
    expires_at = now + valid_for
    invites = [
        Invite(
            code=code,
            unit_id=m.unit_id,
            role=m.role,
            person_id=m.person_id,
            max_uses=1,
            created_at=now,
            expires_at=expires_at,
        )
        for code, m in zip(codes, memberships, strict=True)
    ]
    uow.session.add_all(invites)
    await uow.session.flush()

    uow.audit.record(
        "members.imported",
        "person",
        None,
        actor=actor,
        file=members.source,
        people=len(rows),
        units=len({r.unit_code for r in rows}),
    )
    await uow.session.flush()
    return [
        ImportedMember(
            row=r.row,
            person_id=m.person_id,
            full_name=r.full_name,
            unit_code=r.unit_code,
            unit_name=units[r.unit_code].name,
            role=r.role,
            code=invite.code,
            expires_at=expires_at,
        )
        for r, m, invite in zip(rows, memberships, invites, strict=True)
    ]


# --- the roster ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelLink:
    channel: str
    reachable: bool


@dataclass(frozen=True)
class RosterLine:
    """One person's role in one unit, for ``members list``."""

    person_id: int
    full_name: str
    unit_code: str
    unit_name: str
    role: str
    status: str
    channels: list[ChannelLink]


async def roster(uow: UnitOfWork, unit: Unit) -> list[RosterLine]:
    """Everyone with a role in ``unit``'s subtree and the channels they can be reached on:
    one query for the people, one per 500 people for their identities."""
    found = await uow.people.in_subtree(unit)
    person_ids = sorted({p.id for p, _, _ in found if p.id is not None})
    links: dict[int, list[ChannelLink]] = {}
    for chunk in _chunks(person_ids):
        result = await uow.session.exec(
            select(ChannelIdentity)
            .where(col(ChannelIdentity.person_id).in_(chunk))
            .order_by(col(ChannelIdentity.channel), col(ChannelIdentity.id))
        )
        for identity in result.all():
            links.setdefault(identity.person_id, []).append(
                ChannelLink(identity.channel, identity.reachable)
            )
    return [
        RosterLine(
            person_id=person.id or 0,
            full_name=person.full_name or "",
            unit_code=u.code,
            unit_name=u.name,
            role=membership.role,
            status=person.status,
            channels=links.get(person.id or 0, []),
        )
        for person, membership, u in found
    ]
