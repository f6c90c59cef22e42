"""What a "1+1" report reads: a subtree's units, their members, recruits and plans for a year.

Four grouped queries whatever the size of the tree (never one per unit or member),
each restricted to the units whose path lies in the subtree (a range on the
materialised path) or, for one branch's own figures, to that unit alone. Counts only:
no name of a member or a young person is read here, nor even who the members are
(each branch's members come as "so many with no recruit counted, so many with one…"),
so a roll-up cannot show anyone. The branch report's names come from
``RecruitRepository`` (``branch_members``, ``counted_by_member``, ``for_unit``).
Nothing here writes.

A recruit counts by :func:`storage.recruits.counted`, and waits for the secretary by
:func:`storage.recruits.awaiting_secretary`: the pure rules as SQL conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, case, func
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    JoinedAs,
    Membership,
    Person,
    PersonStatus,
    Recruit,
    RecruitConsent,
    RecruitPlan,
    RecruitStage,
    Unit,
)
from storage.recruits import awaiting_secretary, branch_member, counted
from storage.units import subtree_bounds


class UnitRow(NamedTuple):
    id: int
    code: str
    name: str
    parent_id: int | None
    path: str
    settings: dict[str, Any]


class Tally(NamedTuple):
    """One unit's recruits of the year, by what became of them."""

    recorded: int = 0  # every record, whatever its stage or answer
    took_part: int = 0  # counted (took part or joined, and known to be real)
    joined_union: int = 0  # counted, joined the union (Đoàn)
    joined_federation: int = 0  # counted, joined the youth federation (Hội)
    declined: int = 0  # the young person said no: an anonymous count
    waiting_young: int = 0  # the referral link is not answered yet
    waiting_secretary: int = 0  # only the secretary can make it count


class PlanRow(NamedTuple):
    surveyed: int | None
    planned_at: datetime | None
    grade: str | None
    evaluated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReportRows:
    units: list[UnitRow]  # in tree order: a parent before its children
    # unit id -> {recruits counted in the year: members of its roster with that many}
    members: dict[int, dict[int, int]]
    tallies: dict[int, Tally]  # unit id -> its recruits (units with none left out)
    plans: dict[int, PlanRow]  # unit id -> its plan for the year


def _where_unit(unit: Unit, only: bool) -> Any:
    if only:
        return col(Unit.id) == unit.id
    low, high = subtree_bounds(unit.path)
    return and_(col(Unit.path) >= low, col(Unit.path) < high)


def _unit_ids(unit: Unit, only: bool) -> Any:
    return sa_select(col(Unit.id)).where(_where_unit(unit, only))


def _members(unit: Unit, only: bool) -> Any:
    """(unit id, person id) of everyone on a roster of the subtree, once per unit."""
    return (
        sa_select(col(Membership.unit_id), col(Membership.person_id))
        .join(Unit, col(Unit.id) == Membership.unit_id)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(
            _where_unit(unit, only),
            branch_member(),
            col(Person.status).in_([PersonStatus.ACTIVE.value, PersonStatus.INVITED.value]),
        )
        .distinct()
    )


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _joined(as_: JoinedAs) -> Any:
    return and_(counted(), col(Recruit.stage) == RecruitStage.JOINED, col(Recruit.joined_as) == as_)


async def load_units(session: AsyncSession, unit: Unit, only: bool) -> list[UnitRow]:
    result = await session.execute(
        sa_select(
            col(Unit.id),
            col(Unit.code),
            col(Unit.name),
            col(Unit.parent_id),
            col(Unit.path),
            col(Unit.settings),
        )
        .where(_where_unit(unit, only))
        .order_by(col(Unit.path))
    )
    return [UnitRow(*row) for row in result.all()]


async def load_members(
    session: AsyncSession, unit: Unit, year: int, only: bool
) -> dict[int, dict[int, int]]:
    """Each roster of the subtree as {recruits counted in ``year``: members with that
    many}. A member's recruits count wherever they were recorded, as
    ``RecruitRepository.counted_by_member`` counts them."""
    members = _members(unit, only).subquery()
    counted_here = func.count(col(Recruit.id)).label("n")
    per_member = (
        sa_select(members.c.unit_id, counted_here)
        .select_from(members)
        .outerjoin(
            Recruit,
            and_(
                col(Recruit.member_id) == members.c.person_id, col(Recruit.year) == year, counted()
            ),
        )
        .group_by(members.c.unit_id, members.c.person_id)
        .subquery()
    )
    result = await session.execute(
        sa_select(per_member.c.unit_id, per_member.c.n, func.count()).group_by(
            per_member.c.unit_id, per_member.c.n
        )
    )
    found: dict[int, dict[int, int]] = {}
    for unit_id, n, people in result.all():
        found.setdefault(int(unit_id), {})[int(n)] = int(people)
    return found


async def load_tallies(
    session: AsyncSession, unit: Unit, year: int, only: bool
) -> dict[int, Tally]:
    result = await session.execute(
        sa_select(
            col(Recruit.unit_id),
            func.count(),
            _count(counted()),
            _count(_joined(JoinedAs.UNION)),
            _count(_joined(JoinedAs.FEDERATION)),
            _count(col(Recruit.consent) == RecruitConsent.DECLINED),
            _count(col(Recruit.consent) == RecruitConsent.PENDING),
            _count(awaiting_secretary()),
        )
        .where(col(Recruit.year) == year, col(Recruit.unit_id).in_(_unit_ids(unit, only)))
        .group_by(col(Recruit.unit_id))
    )
    return {int(row[0]): Tally(*(int(n) for n in row[1:])) for row in result.all()}


async def load_plans(
    session: AsyncSession, unit: Unit, year: int, only: bool
) -> dict[int, PlanRow]:
    result = await session.execute(
        sa_select(
            col(RecruitPlan.unit_id),
            col(RecruitPlan.surveyed),
            col(RecruitPlan.planned_at),
            col(RecruitPlan.grade),
            col(RecruitPlan.evaluated_at),
        ).where(col(RecruitPlan.year) == year, col(RecruitPlan.unit_id).in_(_unit_ids(unit, only)))
    )
    return {int(row[0]): PlanRow(*row[1:]) for row in result.all()}


async def load_report_rows(
    session: AsyncSession, unit: Unit, year: int, *, only: bool = False
) -> ReportRows:
    """Everything a "1+1" report of ``unit``'s subtree for ``year`` needs, in four queries.

    With ``only``, ``unit`` alone (its own roster and records), not what lies under it.
    """
    return ReportRows(
        units=await load_units(session, unit, only),
        members=await load_members(session, unit, year, only),
        tallies=await load_tallies(session, unit, year, only),
        plans=await load_plans(session, unit, year, only),
    )
