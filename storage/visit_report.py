"""What a "1+2" report reads: the cadres of a unit subtree, their days, exemptions, trips.

Four grouped queries whatever the number of cadres (never one per cadre), each
restricted to the cadres whose own unit lies in the subtree (a range on the
materialised path) and to the counting window up to the "as of" day. Nothing here
writes: inspectors read reports, and a report changes no data.

Only days with status "counted" are read, and none after the "as of" day, so the
report for 15/11 says what was true on 15/11 (an entry logged late for a day before
it counts, as it would have had it been logged in time). The summary needs each
cadre's distinct days only; the entries behind them (unit visited, kind, note) are
read for the Excel file alone. The rules of "1+2" are applied by
:mod:`handlers.fieldvisits.report_build`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import String, TypeDecorator, and_, or_, type_coerce
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    FieldCadre,
    FieldVisit,
    FieldVisitDay,
    Person,
    PersonStatus,
    ThematicTrip,
    Unit,
    VisitExemption,
    VisitStatus,
)
from storage.units import subtree_bounds


@dataclass(frozen=True, slots=True)
class CadreRow:
    """A full-time cadre in the report, with the unit they work in."""

    person_id: int
    name: str | None  # erased people are left out; a name may still be missing
    unit_code: str
    unit_name: str


class DayRow(NamedTuple):
    """One counted day of one entry (for the file); a day logged twice comes as two rows.

    A named tuple: a province has tens of thousands, and a frozen dataclass takes
    several times as long to make.
    """

    person_id: int
    day: date
    unit_name: str | None  # the unit visited; None if not given or since deleted
    kind: str  # storage.models.VisitKind
    note: str | None


@dataclass(frozen=True, slots=True)
class ExemptionRow:
    person_id: int
    reason: str  # scheduler.field_visits.ExemptionReason
    note: str | None
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True, slots=True)
class TripRow:
    person_id: int
    theme: str
    starts_on: date
    ends_on: date | None  # None while under way
    report_filed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReportRows:
    cadres: list[CadreRow]
    days: dict[int, list[date]]  # person id -> distinct counted days (in no order)
    exemptions: list[ExemptionRow]
    trips: list[TripRow]
    entries: list[DayRow] | None = None  # only when asked for (the Excel file)


class _Day(TypeDecorator[date]):
    """A DATE read fast: SQLite hands back ISO text, which SQLAlchemy's own Date type
    parses with a regular expression per row (two thirds of the report's time at
    30,000 days); PostgreSQL's driver hands back dates already."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> date | None:
        if value is None or isinstance(value, date):
            return value
        return date.fromisoformat(value)


def _day() -> Any:
    return type_coerce(col(FieldVisitDay.day), _Day())


def _cadres_in(unit: Unit) -> Any:
    """Active cadres whose own unit is ``unit`` or under it: a subquery of person ids."""
    low, high = subtree_bounds(unit.path)
    return (
        sa_select(col(FieldCadre.person_id))
        .join(Unit, col(Unit.id) == FieldCadre.unit_id)
        .where(col(FieldCadre.active), col(Unit.path) >= low, col(Unit.path) < high)
    )


async def load_cadres(session: AsyncSession, unit: Unit) -> list[CadreRow]:
    """The active cadres of the subtree, by unit then name; erased people left out."""
    low, high = subtree_bounds(unit.path)
    result = await session.execute(
        sa_select(col(FieldCadre.person_id), col(Person.full_name), col(Unit.code), col(Unit.name))
        .join(Person, col(Person.id) == FieldCadre.person_id)
        .join(Unit, col(Unit.id) == FieldCadre.unit_id)
        .where(
            col(FieldCadre.active),
            col(Unit.path) >= low,
            col(Unit.path) < high,
            col(Person.status) != PersonStatus.DELETED,
        )
        .order_by(col(Unit.path), col(Person.full_name), col(FieldCadre.person_id))
    )
    return [CadreRow(pid, name, code, uname) for pid, name, code, uname in result.all()]


def _counted(unit: Unit, first: date, as_of: date) -> list[Any]:
    """Counted days of the subtree's cadres from ``first`` to ``as_of``, both included.

    The ``(person_id, day)`` index of ``field_visit_day`` gives each cadre's days; the
    entry is joined for its status.
    """
    return [
        col(FieldVisitDay.person_id).in_(_cadres_in(unit)),
        col(FieldVisitDay.day) >= first,
        col(FieldVisitDay.day) <= as_of,
        col(FieldVisit.status) == VisitStatus.COUNTED,
    ]


async def load_days(
    session: AsyncSession, unit: Unit, first: date, as_of: date
) -> dict[int, list[date]]:
    """Each cadre's distinct counted days from ``first`` to ``as_of`` (a day once).

    Unordered: sorting 30,000 rows costs a quarter of the query, and counting needs none.
    """
    result = await session.execute(
        sa_select(col(FieldVisitDay.person_id), _day())
        .distinct()
        .join(FieldVisit, col(FieldVisit.id) == FieldVisitDay.visit_id)
        .where(*_counted(unit, first, as_of))
    )
    days: dict[int, list[date]] = {}
    for person_id, day in result.all():
        days.setdefault(person_id, []).append(day)
    return days


async def load_entries(session: AsyncSession, unit: Unit, first: date, as_of: date) -> list[DayRow]:
    """The counted days with their entries' kind, note and unit visited, for the file."""
    visited = aliased(Unit)
    result = await session.execute(
        sa_select(
            col(FieldVisitDay.person_id),
            _day(),
            col(visited.name),
            col(FieldVisit.kind),
            col(FieldVisit.note),
        )
        .join(FieldVisit, col(FieldVisit.id) == FieldVisitDay.visit_id)
        .outerjoin(visited, col(visited.id) == FieldVisit.unit_id)
        .where(*_counted(unit, first, as_of))
        .order_by(col(FieldVisitDay.person_id), col(FieldVisitDay.day), col(FieldVisit.id))
    )
    return [DayRow(*row) for row in result.all()]


async def load_exemptions(session: AsyncSession, unit: Unit, on: date) -> list[ExemptionRow]:
    """The exemptions of the subtree's cadres in force on ``on``, oldest first."""
    result = await session.execute(
        sa_select(
            col(VisitExemption.person_id),
            col(VisitExemption.reason),
            col(VisitExemption.note),
            col(VisitExemption.starts_on),
            col(VisitExemption.ends_on),
        )
        .where(
            col(VisitExemption.person_id).in_(_cadres_in(unit)),
            col(VisitExemption.starts_on) <= on,
            or_(col(VisitExemption.ends_on).is_(None), col(VisitExemption.ends_on) >= on),
        )
        .order_by(col(VisitExemption.starts_on), col(VisitExemption.id))
    )
    return [ExemptionRow(*row) for row in result.all()]


async def load_trips(
    session: AsyncSession, unit: Unit, first: date, as_of: date, ended_since: date
) -> list[TripRow]:
    """Trips of the subtree's cadres begun by ``as_of``: those begun from ``first`` on,
    and those that ended from ``ended_since`` on (last year's, for their report's due day).
    """
    result = await session.execute(
        sa_select(
            col(ThematicTrip.person_id),
            col(ThematicTrip.theme),
            col(ThematicTrip.starts_on),
            col(ThematicTrip.ends_on),
            col(ThematicTrip.report_filed_at),
        )
        .where(
            col(ThematicTrip.person_id).in_(_cadres_in(unit)),
            col(ThematicTrip.starts_on) <= as_of,
            or_(
                col(ThematicTrip.starts_on) >= first,
                and_(
                    col(ThematicTrip.ends_on).is_not(None),
                    col(ThematicTrip.ends_on) >= ended_since,
                ),
            ),
        )
        .order_by(col(ThematicTrip.starts_on), col(ThematicTrip.id))
    )
    return [TripRow(*row) for row in result.all()]


async def load_report_rows(
    session: AsyncSession,
    unit: Unit,
    window: Sequence[date],
    as_of: date,
    *,
    entries: bool = False,
    trips_ended_since: date | None = None,
) -> ReportRows:
    """Everything a report of ``unit``'s subtree as of ``as_of`` needs, in four queries.

    ``window`` is the counting year containing ``as_of`` (``counting_window``); only
    its first day is used: nothing after ``as_of`` is read. With ``entries`` the days
    come with their entries (one row per entry and day), as the Excel file lists them.
    Trips begun before the window are read if they ended from ``trips_ended_since``
    (default: the window's first day) on.
    """
    first = window[0]
    found = await load_entries(session, unit, first, as_of) if entries else None
    if found is None:
        days = await load_days(session, unit, first, as_of)
    else:
        days = {}
        for row in found:  # in (person, day) order: a day logged twice is next to itself
            seen = days.setdefault(row.person_id, [])
            if not seen or seen[-1] != row.day:
                seen.append(row.day)
    return ReportRows(
        cadres=await load_cadres(session, unit),
        days=days,
        exemptions=await load_exemptions(session, unit, as_of),
        trips=await load_trips(session, unit, first, as_of, trips_ended_since or first),
        entries=found,
    )
