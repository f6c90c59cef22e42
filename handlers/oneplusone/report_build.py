""" "1+1" reports: a branch's year, or a unit's subtree rolled up, from what storage reads.

Two kinds, decided by who reads and where:

* the **branch report** (a secretary or deputy of a branch, or the operator's CLI):
  the branch's four steps, its numbers, each member with their count and each
  recruit by name (the names of young people who declined, let the link lapse or
  withdrew are gone: "anonymous");
* the **roll-up** (the standing committee, admins and inspectors, or a secretary of a
  unit with units under it): counts only, never a name of a member or young person.
  The rows it is built from (``storage.recruit_report``) hold no names at all.

A *branch* is a unit with at least one member on its roster; only branches are
measured (carried out, plan, target). The young people are counted wherever they were
recorded in the subtree, so the union's total misses none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from handlers.oneplusone.rules import (
    KEEPS_NAME,
    Progress,
    awaits_secretary,
    branch_target,
    carried_out,
    counts,
    member_progress,
    share,
)
from handlers.oneplusone.targets import SETTING, per_member_target
from storage.models import Person, PersonStatus, Recruit, Unit
from storage.recruit_report import PlanRow, ReportRows, Tally, UnitRow, load_report_rows
from storage.uow import UnitOfWork

PATH_SEPARATOR = " › "


@dataclass(frozen=True, slots=True)
class Figures:
    """The numbers of one unit, or of many added up (:func:`added`)."""

    branches: int = 0
    carried_out: int = 0  # branches with at least one young person counted
    planned: int = 0  # branches that recorded their plan
    evaluated: int = 0  # branches that evaluated the year
    reached_target: int = 0  # branches whose count reached the branch's target
    members: int = 0
    target: int = 0  # young people the members are to bring in
    reached: int = 0  # members who brought in their share
    recorded: int = 0
    took_part: int = 0
    joined_union: int = 0
    joined_federation: int = 0
    declined: int = 0
    waiting_young: int = 0
    waiting_secretary: int = 0

    @property
    def carried_share(self) -> float:
        return share(self.carried_out, self.branches)

    @property
    def reached_share(self) -> float:
        return share(self.reached, self.members)


FIGURE_NAMES = tuple(f.name for f in fields(Figures))


def added(many: Iterable[Figures]) -> Figures:
    """The figures of many units added up, field by field."""
    rows = [[getattr(f, name) for name in FIGURE_NAMES] for f in many]
    return Figures(*(sum(column) for column in zip(*rows, strict=True))) if rows else Figures()


@dataclass(frozen=True, slots=True)
class BranchLine:
    """One branch of the subtree, with its plan for the year."""

    unit_id: int
    code: str
    name: str
    path: str  # the names from below the report's unit down to the branch
    per_member: int
    figures: Figures
    surveyed: int | None
    planned_on: date | None
    grade: str | None
    evaluated_on: date | None

    @property
    def carried_out(self) -> bool:
        return self.figures.carried_out > 0

    @property
    def reached_target(self) -> bool:
        return self.figures.reached_target > 0


@dataclass(frozen=True, slots=True)
class GroupLine:
    """A unit right under the report's unit, with everything under it; or the report's
    unit's own roster (``own``), when it has members of its own."""

    code: str
    name: str
    figures: Figures
    own: bool = False


@dataclass(frozen=True, slots=True)
class MemberLine:
    person_id: int
    name: str
    invited: bool  # on the roster, not yet on the bot
    progress: Progress


@dataclass(frozen=True, slots=True)
class RecruitLine:
    record: Recruit
    member: str | None  # the member who brought them, if still on the branch's roster
    name: str | None  # None: anonymous (declined, lapsed, withdrawn, duplicate)
    counts: bool
    awaits_secretary: bool


@dataclass(frozen=True)
class Report:
    unit_code: str
    unit_name: str
    year: int
    as_of: date
    targets: tuple[int, ...]  # the per-member targets in force, lowest first
    totals: Figures
    groups: tuple[GroupLine, ...]  # roll-up only
    branches: tuple[BranchLine, ...]
    members: tuple[MemberLine, ...] | None = None  # branch report only
    recruits: tuple[RecruitLine, ...] | None = None  # branch report only

    @property
    def named(self) -> bool:
        """A branch report, with names; a roll-up has none."""
        return self.members is not None

    def slowest_first(self) -> list[GroupLine]:
        """The roll-up's rows, the units furthest behind first.

        The committee reads the roll-up to know whom to call: the units with the
        smallest share of branches carrying "1+1" out, then of members reaching their
        target, come first, so the ones to push stay on a phone's screen when the list
        is cut; units with nothing measured yet (no branches) come last.
        """
        return sorted(
            self.groups,
            key=lambda g: (
                not g.figures.branches,
                g.figures.carried_share,
                g.figures.reached_share,
                g.name,
            ),
        )


# --- building -------------------------------------------------------------------------


def _ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def _own_target(settings: dict[str, Any]) -> int | None:
    value = settings.get(SETTING)
    return None if value is None else max(1, int(value))


def unit_targets(units: Sequence[UnitRow], top: int) -> dict[int, int]:
    """Each unit's per-member target: its own setting, else its parent's. ``units`` in
    tree order, the first being the report's unit, whose target (set on it or above it:
    ``per_member_target``) is ``top``."""
    targets: dict[int, int] = {}
    for row in units:
        inherited = targets.get(row.parent_id or 0, top)
        targets[row.id] = (_own_target(row.settings) if targets else None) or inherited
    return targets


def _local(value: datetime | None, tz: ZoneInfo) -> date | None:
    return None if value is None else value.astimezone(tz).date()


def _branch_figures(
    tally: Tally, members: dict[int, int], per: int, plan: PlanRow | None
) -> Figures:
    """One branch's figures; ``members`` is {recruits counted: members with that many}."""
    on_roster = sum(members.values())
    target = branch_target(on_roster, per)
    return Figures(
        branches=1,
        carried_out=int(carried_out(tally.took_part)),
        planned=int(plan is not None and plan.planned_at is not None),
        evaluated=int(plan is not None and plan.evaluated_at is not None),
        reached_target=int(on_roster > 0 and tally.took_part >= target),
        members=on_roster,
        target=target,
        reached=sum(n for c, n in members.items() if member_progress(c, per).reached),
        **tally._asdict(),
    )


def build_report(
    unit: Unit,
    rows: ReportRows,
    year: int,
    as_of: date,
    top_target: int,
    tz: ZoneInfo,
    *,
    members: Sequence[Person] | None = None,
    counted: dict[int, int] | None = None,
    recruits: Sequence[Recruit] | None = None,
) -> Report:
    """The report of ``unit``'s subtree for ``year``; a branch report when ``members``
    (its roster, names and all), ``counted`` (recruits counted per member) and
    ``recruits`` (its records) are given."""
    named = members is not None
    targets = unit_targets(rows.units, top_target)
    names = {row.id: row.name for row in rows.units}
    depth = len(_ids(unit.path))
    own: dict[int, Figures] = {}
    branches: list[BranchLine] = []
    for row in rows.units:
        tally = rows.tallies.get(row.id, Tally())
        roster = rows.members.get(row.id, {})
        if not roster and not (named and row.id == unit.id):
            own[row.id] = Figures(**tally._asdict())
            continue
        plan = rows.plans.get(row.id)
        figures = _branch_figures(tally, roster, targets[row.id], plan)
        own[row.id] = figures
        below = _ids(row.path)[depth:]
        branches.append(
            BranchLine(
                unit_id=row.id,
                code=row.code,
                name=row.name,
                path=PATH_SEPARATOR.join(names[i] for i in below) or row.name,
                per_member=targets[row.id],
                figures=figures,
                surveyed=plan.surveyed if plan else None,
                planned_on=_local(plan.planned_at, tz) if plan else None,
                grade=plan.grade if plan else None,
                evaluated_on=_local(plan.evaluated_at, tz) if plan else None,
            )
        )
    in_force = sorted({b.per_member for b in branches} or {top_target})
    return Report(
        unit_code=unit.code,
        unit_name=unit.name,
        year=year,
        as_of=as_of,
        targets=tuple(in_force),
        totals=added(own.values()),
        groups=() if named else _groups(rows.units, own, depth),
        branches=tuple(branches),
        members=None if members is None else _members(members, counted or {}, top_target),
        recruits=None if recruits is None else _recruits(recruits, members or ()),
    )


def _groups(units: Sequence[UnitRow], own: dict[int, Figures], depth: int) -> tuple[GroupLine, ...]:
    """One line per unit right under the report's unit (its whole subtree added up), and
    one for the report's unit's own roster; lines with nothing in them left out."""
    by_id = {row.id: row for row in units}
    heads: dict[int, list[Figures]] = {}
    for row in units:
        ids = _ids(row.path)
        head = ids[depth] if len(ids) > depth else row.id  # the report's unit: its own line
        heads.setdefault(head, []).append(own[row.id])
    root = units[0].id if units else None
    lines = [
        GroupLine(by_id[uid].code, by_id[uid].name, added(parts), own=uid == root)
        for uid, parts in heads.items()
    ]
    return tuple(g for g in lines if g.figures.branches or g.figures.recorded)


def _members(
    people: Iterable[Person], counted: dict[int, int], per_member: int
) -> tuple[MemberLine, ...]:
    """Who has and who has not: those still short first (fewest counted first), then
    those who reached their target, by name."""
    lines = [
        MemberLine(
            person_id=p.id,
            name=p.full_name or "—",
            invited=p.status == PersonStatus.INVITED,
            progress=member_progress(counted.get(p.id, 0), per_member),
        )
        for p in people
        if p.id is not None
    ]
    return tuple(sorted(lines, key=_who_first))


def _who_first(line: MemberLine) -> tuple[bool, int, str]:
    p = line.progress
    return p.reached, 0 if p.reached else p.counted, line.name


def _recruits(recruits: Iterable[Recruit], members: Iterable[Person]) -> tuple[RecruitLine, ...]:
    names = {p.id: p.full_name or "—" for p in members}
    return tuple(
        RecruitLine(
            record=r,
            member=names.get(r.member_id) if r.member_id is not None else None,
            # Only while the link waits or after a yes; the flows wipe the rest anyway.
            name=r.name if r.consent in KEEPS_NAME else None,
            counts=counts(r.stage, r.consent, r.verified_at is not None),
            awaits_secretary=awaits_secretary(r.stage, r.consent, r.verified_at is not None),
        )
        for r in recruits
    )


# --- reading --------------------------------------------------------------------------


def is_branch_report(rows: ReportRows, names: bool) -> bool:
    return names and len(rows.units) == 1


async def load_report(
    uow: UnitOfWork, unit: Unit, year: int, settings: Settings, today: date, *, names: bool
) -> Report:
    """The "1+1" report of ``unit`` for ``year`` as of ``today``.

    With ``names`` (the reader may see the branch's names: its secretary or deputy, or
    the operator) a unit with no units under it gets the branch report; otherwise, and
    for any unit with units under it, the roll-up, which names nobody.
    """
    assert unit.id is not None
    rows = await load_report_rows(uow.session, unit, year)
    top = await per_member_target(uow, unit, settings)
    if not is_branch_report(rows, names):
        return build_report(unit, rows, year, today, top, settings.tz)
    members = await uow.recruits.branch_members(unit.id)
    return build_report(
        unit,
        rows,
        year,
        today,
        top,
        settings.tz,
        members=members,
        counted=await uow.recruits.counted_by_member([p.id for p in members if p.id], year),
        recruits=await uow.recruits.for_unit(unit.id, year),
    )


FIGURES = (
    "per_member",
    "members",
    "target",
    "reached",
    "recorded",
    "took_part",
    "joined_union",
    "joined_federation",
    "declined",
    "waiting_young",
    "waiting_secretary",
    "carried_out",
)


async def branch_figures(
    uow: UnitOfWork, unit: Unit, year: int, settings: Settings
) -> dict[str, int]:
    """A branch's own numbers for ``year`` (its roster and records, not the units under
    it), as the year-end evaluation keeps them in ``RecruitPlan.figures``: the keys of
    :data:`FIGURES`; ``carried_out`` is 1 or 0."""
    rows = await load_report_rows(uow.session, unit, year, only=True)
    per = await per_member_target(uow, unit, settings)
    assert unit.id is not None
    figures = _branch_figures(
        rows.tallies.get(unit.id, Tally()),
        rows.members.get(unit.id, {}),
        per,
        rows.plans.get(unit.id),
    )
    return {"per_member": per, **{key: getattr(figures, key) for key in FIGURES[1:]}}
