"""Field visits ("1+2"): the days cadres logged, their thematic trips.

A cadre's count is their *distinct* COUNTED days (``field_visit_day`` joined to a
``field_visit`` whose status is COUNTED): a day in two entries counts once. Every read
here is one query, whatever the number of cadres, entries or days, so the committee
report can ask for hundreds of cadres at once. The trip reads live in ``storage.field_trips``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.field_trips import TripQueries
from storage.models import (
    FieldCadre,
    FieldVisit,
    FieldVisitDay,
    Membership,
    Person,
    PersonStatus,
    Role,
    ThematicTrip,
    Unit,
    VisitStatus,
)

#: Entries that hold their days: counted, or waiting for the standing committee.
LIVE = (VisitStatus.COUNTED.value, VisitStatus.PENDING.value)


class FieldVisitRepository(TripQueries):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- counting (the report, the pace question) ----------------------------------

    async def counted_days(self, person_id: int, first: date, last: date) -> list[date]:
        """The distinct days ``person_id`` has COUNTED in ``[first, last]``, sorted."""
        found = await self.days_by_person([person_id], first, last)
        return found.get(person_id, [])

    async def days_by_person(
        self, person_ids: Sequence[int] | None, first: date, last: date
    ) -> dict[int, list[date]]:
        """Distinct COUNTED days per cadre in ``[first, last]`` (None: every cadre).

        One grouped query; cadres without a day are absent from the result.
        """
        query = (
            select(col(FieldVisitDay.person_id), col(FieldVisitDay.day))
            .join(FieldVisit, col(FieldVisit.id) == FieldVisitDay.visit_id)
            .where(FieldVisit.status == VisitStatus.COUNTED.value)
            .where(col(FieldVisitDay.day) >= first, col(FieldVisitDay.day) <= last)
            .distinct()
            .order_by(col(FieldVisitDay.person_id), col(FieldVisitDay.day))
        )
        if person_ids is not None:
            if not person_ids:
                return {}
            query = query.where(col(FieldVisitDay.person_id).in_(list(set(person_ids))))
        days: dict[int, list[date]] = defaultdict(list)
        for person_id, day in (await self.session.exec(query)).all():
            days[person_id].append(day)
        return dict(days)

    async def entries(
        self,
        person_id: int,
        first: date,
        last: date,
        *,
        statuses: Iterable[str] = LIVE,
    ) -> list[FieldVisit]:
        """A cadre's entries with a day in ``[first, last]``, newest days first."""
        query = (
            select(FieldVisit)
            .where(FieldVisit.person_id == person_id)
            .where(col(FieldVisit.first_day) <= last, col(FieldVisit.last_day) >= first)
            .where(col(FieldVisit.status).in_(list(statuses)))
            .order_by(col(FieldVisit.last_day).desc(), col(FieldVisit.id).desc())
        )
        return list((await self.session.exec(query)).all())

    async def days_of(self, visit_ids: Sequence[int]) -> dict[int, list[date]]:
        """The days of each entry, sorted."""
        if not visit_ids:
            return {}
        query = (
            select(col(FieldVisitDay.visit_id), col(FieldVisitDay.day))
            .where(col(FieldVisitDay.visit_id).in_(list(set(visit_ids))))
            .order_by(col(FieldVisitDay.visit_id), col(FieldVisitDay.day))
        )
        days: dict[int, list[date]] = defaultdict(list)
        for visit_id, day in (await self.session.exec(query)).all():
            days[visit_id].append(day)
        return dict(days)

    # --- logging ---------------------------------------------------------------------

    async def get(self, visit_id: int) -> FieldVisit | None:
        return await self.session.get(FieldVisit, visit_id)

    async def add(self, visit: FieldVisit, days: Iterable[date]) -> FieldVisit:
        """Store an entry and its days (each once)."""
        self.session.add(visit)
        await self.session.flush()
        assert visit.id is not None
        for day in sorted(set(days)):
            self.session.add(FieldVisitDay(visit_id=visit.id, day=day, person_id=visit.person_id))
        await self.session.flush()
        return visit

    async def logged_on(
        self, person_id: int, days: Sequence[date], *, except_visit: int | None = None
    ) -> dict[date, FieldVisit]:
        """Which of ``days`` are already in a live entry of the cadre, and which entry."""
        if not days:
            return {}
        query = (
            select(col(FieldVisitDay.day), FieldVisit)
            .join(FieldVisit, col(FieldVisit.id) == FieldVisitDay.visit_id)
            .where(FieldVisitDay.person_id == person_id)
            .where(col(FieldVisitDay.day).in_(list(set(days))))
            .where(col(FieldVisit.status).in_(LIVE))
            .order_by(col(FieldVisitDay.day), col(FieldVisit.id))
        )
        if except_visit is not None:
            query = query.where(FieldVisit.id != except_visit)
        found: dict[date, FieldVisit] = {}
        for day, visit in (await self.session.exec(query)).all():
            found.setdefault(day, visit)
        return found

    async def recent_units(self, person_id: int, limit: int = 4) -> list[Unit]:
        """The units the cadre logged most recently, latest first."""
        latest = func.max(FieldVisit.logged_at).label("latest")
        query = (
            select(Unit, latest)
            .join(FieldVisit, col(FieldVisit.unit_id) == Unit.id)
            .where(FieldVisit.person_id == person_id)
            .group_by(col(Unit.id))
            .order_by(latest.desc())
            .limit(limit)
        )
        return [unit for unit, _ in (await self.session.exec(query)).all()]

    async def set_status(
        self,
        visit: FieldVisit,
        status: str,
        *,
        expected: Iterable[str],
        by: int | None = None,
        at: datetime | None = None,
    ) -> bool:
        """Move an entry to ``status`` only if it is still in an ``expected`` one.

        A conditional UPDATE, so two committee members pressing "Duyệt" at once decide
        once: the second gets False. ``by``/``at`` record who decided, when given.
        """
        assert visit.id is not None
        values: dict[str, object] = {"status": status}
        if by is not None or at is not None:
            values.update(decided_by_person_id=by, decided_at=at)
        result = await self.session.execute(
            update(FieldVisit)
            .where(col(FieldVisit.id) == visit.id, col(FieldVisit.status).in_(list(expected)))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await self.session.refresh(visit)
        return bool(getattr(result, "rowcount", 0))

    async def units_by_id(self, unit_ids: Iterable[int | None]) -> dict[int, Unit]:
        """The units visited by a list of entries, in one query."""
        wanted = {u for u in unit_ids if u is not None}
        if not wanted:
            return {}
        result = await self.session.exec(select(Unit).where(col(Unit.id).in_(list(wanted))))
        return {u.id: u for u in result.all() if u.id is not None}

    async def corrections_pending(self, visit_ids: Sequence[int]) -> set[int]:
        """Which of these entries have a correction waiting for approval."""
        if not visit_ids:
            return set()
        query = select(FieldVisit.replaces_id).where(
            col(FieldVisit.replaces_id).in_(list(set(visit_ids))),
            FieldVisit.status == VisitStatus.PENDING.value,
        )
        return {r for r in (await self.session.exec(query)).all() if r is not None}

    # --- who ---------------------------------------------------------------------------

    async def cadre(self, person_id: int) -> FieldCadre | None:
        return await self.session.get(FieldCadre, person_id)

    async def standing_members(self, unit_ids: Sequence[int]) -> dict[int, list[Person]]:
        """Standing-committee members of each unit (those who approve late entries)."""
        if not unit_ids:
            return {}
        query = (
            select(Membership.unit_id, Person)
            .join(Person, col(Person.id) == Membership.person_id)
            .where(col(Membership.unit_id).in_(list(set(unit_ids))))
            .where(Membership.role == Role.STANDING.value)
            .where(Person.status == PersonStatus.ACTIVE.value)
            .order_by(col(Person.id))
        )
        found: dict[int, list[Person]] = defaultdict(list)
        for unit_id, person in (await self.session.exec(query)).all():
            found[unit_id].append(person)
        return dict(found)

    async def held_for(self, person_id: int) -> tuple[int, int]:
        """(days logged, thematic trips) kept for this person: for "my data"."""
        days = await self.session.execute(
            select(func.count(func.distinct(col(FieldVisitDay.day)))).where(
                col(FieldVisitDay.person_id) == person_id
            )
        )
        trips = await self.session.execute(
            select(func.count()).where(col(ThematicTrip.person_id) == person_id)
        )
        return int(days.scalar_one()), int(trips.scalar_one())

    async def forget_person(self, person_id: int) -> None:
        """The person erased their data: their entries, days, photos, places and trips go."""
        for table, column in (
            (FieldVisitDay, FieldVisitDay.person_id),
            (FieldVisit, FieldVisit.person_id),
            (ThematicTrip, ThematicTrip.person_id),
        ):
            await self.session.execute(delete(table).where(col(column) == person_id))
