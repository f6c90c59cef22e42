"""Who is subject to "1+2", who is exempt and why, and the cadres' quarterly plans.

The register (``field_cadre``) lists the full-time cadres the standing committee
marked; an exemption (``visit_exemption``) excuses one of them for a period and
keeps them on the register, so reports still count them ("8 did not go: 2 exempt
…"). A plan (``visit_plan``) is one per cadre and quarter: resubmitting changes the
same row and sends it back for approval. Days and trips are read from
``uow.visits``. Nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    FieldCadre,
    Membership,
    Person,
    PersonStatus,
    PlanStatus,
    Role,
    Unit,
    VisitExemption,
    VisitPlan,
)
from storage.units import subtree_bounds


class VisitPlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- the register ------------------------------------------------------------------

    async def cadre(self, person_id: int) -> FieldCadre | None:
        return await self.session.get(FieldCadre, person_id)

    async def enrol(
        self, person_id: int, unit_id: int, *, by: int | None, now: datetime
    ) -> FieldCadre:
        """Put a cadre on the register (again): active, working in ``unit_id``."""
        cadre = await self.cadre(person_id)
        if cadre is None:
            cadre = FieldCadre(person_id=person_id, unit_id=unit_id)
        cadre.unit_id, cadre.active = unit_id, True
        cadre.added_by_person_id, cadre.added_at = by, now
        self.session.add(cadre)
        await self.session.flush()
        return cadre

    async def register_in(self, unit: Unit) -> Sequence[tuple[FieldCadre, Person, Unit]]:
        """Register rows (active or not) whose unit is ``unit`` or under it."""
        low, high = subtree_bounds(unit.path)
        result = await self.session.exec(
            select(FieldCadre, Person, Unit)
            .join(Person, col(Person.id) == FieldCadre.person_id)
            .join(Unit, col(Unit.id) == FieldCadre.unit_id)
            .where(col(Unit.path) >= low, col(Unit.path) < high)
            .where(Person.status != PersonStatus.DELETED)
            .order_by(col(Unit.path), col(Person.full_name))
        )
        return result.all()

    async def with_role_in(self, unit: Unit, role: str) -> Sequence[tuple[Person, Unit]]:
        """People holding ``role`` in ``unit`` or under it (one row per unit)."""
        low, high = subtree_bounds(unit.path)
        result = await self.session.exec(
            select(Person, Unit)
            .join(Membership, col(Membership.person_id) == Person.id)
            .join(Unit, col(Unit.id) == Membership.unit_id)
            .where(col(Unit.path) >= low, col(Unit.path) < high, Membership.role == role)
            .where(Person.status == PersonStatus.ACTIVE)
            .order_by(col(Unit.path), col(Person.full_name))
        )
        return result.all()

    async def active_cadres(self) -> Sequence[tuple[FieldCadre, Person, Unit]]:
        """Every active register row of a person who has not left, for the jobs."""
        result = await self.session.exec(
            select(FieldCadre, Person, Unit)
            .join(Person, col(Person.id) == FieldCadre.person_id)
            .join(Unit, col(Unit.id) == FieldCadre.unit_id)
            .where(col(FieldCadre.active), Person.status == PersonStatus.ACTIVE)
            .order_by(col(FieldCadre.person_id))
        )
        return result.all()

    # --- exemptions ----------------------------------------------------------------------

    async def exemptions(self, person_ids: Sequence[int]) -> dict[int, list[VisitExemption]]:
        """Each person's exemptions, by start day (one query)."""
        if not person_ids:
            return {}
        result = await self.session.exec(
            select(VisitExemption)
            .where(col(VisitExemption.person_id).in_(list(set(person_ids))))
            .order_by(col(VisitExemption.starts_on), col(VisitExemption.id))
        )
        found: dict[int, list[VisitExemption]] = defaultdict(list)
        for exemption in result.all():
            found[exemption.person_id].append(exemption)
        return dict(found)

    async def exemption(self, exemption_id: int) -> VisitExemption | None:
        return await self.session.get(VisitExemption, exemption_id)

    async def lasting(self, person_ids: Sequence[int], on: date) -> list[VisitExemption]:
        """Exemptions in force on ``on`` or starting later: the ones that can be ended."""
        if not person_ids:
            return []
        result = await self.session.exec(
            select(VisitExemption)
            .where(col(VisitExemption.person_id).in_(list(set(person_ids))))
            .where(or_(col(VisitExemption.ends_on).is_(None), col(VisitExemption.ends_on) >= on))
            .order_by(col(VisitExemption.starts_on), col(VisitExemption.id))
        )
        return list(result.all())

    async def add_exemption(self, exemption: VisitExemption) -> VisitExemption:
        self.session.add(exemption)
        await self.session.flush()
        return exemption

    async def end_exemption(self, exemption: VisitExemption, last_day: date) -> None:
        """End an exemption after ``last_day``; one that never began is removed."""
        if last_day < exemption.starts_on:
            await self.session.execute(
                delete(VisitExemption).where(col(VisitExemption.id) == exemption.id)
            )
            return
        exemption.ends_on = last_day
        self.session.add(exemption)
        await self.session.flush()

    # --- quarterly plans -----------------------------------------------------------------

    async def get(self, plan_id: int) -> VisitPlan | None:
        return await self.session.get(VisitPlan, plan_id)

    async def plans(
        self, person_ids: Sequence[int], year: int, quarter: int
    ) -> dict[int, VisitPlan]:
        """The plan of each of these people for one quarter (absent: none registered)."""
        if not person_ids:
            return {}
        result = await self.session.exec(
            select(VisitPlan).where(
                col(VisitPlan.person_id).in_(list(set(person_ids))),
                VisitPlan.year == year,
                VisitPlan.quarter == quarter,
            )
        )
        return {plan.person_id: plan for plan in result.all()}

    async def submit(
        self,
        person_id: int,
        year: int,
        quarter: int,
        *,
        days: int,
        trips: int,
        note: str | None,
    ) -> VisitPlan:
        """Register or change a quarter's plan; either way it waits for approval again."""
        plan = (await self.plans([person_id], year, quarter)).get(person_id)
        if plan is None:
            plan = VisitPlan(person_id=person_id, year=year, quarter=quarter, planned_days=days)
        else:
            plan.revision += 1
        plan.planned_days, plan.planned_trips, plan.note = days, trips, note
        plan.status, plan.reason = PlanStatus.SUBMITTED, None
        plan.decided_by_person_id, plan.decided_at = None, None
        self.session.add(plan)
        await self.session.flush()
        return plan

    async def decide(
        self, plan: VisitPlan, status: PlanStatus, *, by: int, now: datetime, reason: str = ""
    ) -> None:
        """Approve a plan, or return it to the cadre with a reason."""
        plan.status, plan.reason = status, reason or None
        plan.decided_by_person_id, plan.decided_at = by, now
        self.session.add(plan)
        await self.session.flush()

    async def awaiting(self, person_ids: Sequence[int]) -> list[VisitPlan]:
        """Submitted plans of these people, oldest quarter first."""
        if not person_ids:
            return []
        result = await self.session.exec(
            select(VisitPlan)
            .where(col(VisitPlan.person_id).in_(list(set(person_ids))))
            .where(VisitPlan.status == PlanStatus.SUBMITTED)
            .order_by(col(VisitPlan.year), col(VisitPlan.quarter), col(VisitPlan.id))
        )
        return list(result.all())

    # --- who decides -----------------------------------------------------------------

    async def committee(self, unit_ids: Sequence[int]) -> dict[int, list[Person]]:
        """Standing-committee members and administrators of each unit (one query)."""
        if not unit_ids:
            return {}
        result = await self.session.exec(
            select(Membership.unit_id, Person)
            .join(Person, col(Person.id) == Membership.person_id)
            .where(col(Membership.unit_id).in_(list(set(unit_ids))))
            .where(col(Membership.role).in_([Role.STANDING.value, Role.ADMIN.value]))
            .where(Person.status == PersonStatus.ACTIVE)
            .order_by(col(Person.id))
        )
        found: dict[int, list[Person]] = defaultdict(list)
        for unit_id, person in result.all():
            if person not in found[unit_id]:
                found[unit_id].append(person)
        return dict(found)

    async def forget_person(self, person_id: int) -> None:
        """The person erased their data: plans, exemptions and their place on the list go."""
        for table, column in (
            (VisitPlan, VisitPlan.person_id),
            (VisitExemption, VisitExemption.person_id),
            (FieldCadre, FieldCadre.person_id),
        ):
            await self.session.execute(delete(table).where(col(column) == person_id))
