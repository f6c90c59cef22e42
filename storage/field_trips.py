"""Thematic trips (đợt chuyên đề) in the field-visit repository: one query per read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ThematicTrip


class TripQueries:
    """Mixed into :class:`storage.field_visits.FieldVisitRepository` (``uow.visits``)."""

    session: AsyncSession

    async def trips_of(
        self, person_ids: Sequence[int] | None, first: date, last: date
    ) -> dict[int, list[ThematicTrip]]:
        """Thematic trips *starting* in ``[first, last]`` per cadre, by start day.

        A trip belongs to the counting year it starts in (see ``check_trips``). Trips
        still under way (``ends_on`` None) are included: callers skip them if needed.
        """
        query = (
            select(ThematicTrip)
            .where(col(ThematicTrip.starts_on) >= first, col(ThematicTrip.starts_on) <= last)
            .order_by(col(ThematicTrip.person_id), col(ThematicTrip.starts_on))
        )
        if person_ids is not None:
            if not person_ids:
                return {}
            query = query.where(col(ThematicTrip.person_id).in_(list(set(person_ids))))
        trips: dict[int, list[ThematicTrip]] = defaultdict(list)
        for trip in (await self.session.exec(query)).all():
            trips[trip.person_id].append(trip)
        return dict(trips)

    async def trips_awaiting_report(
        self,
        *,
        person_ids: Sequence[int] | None = None,
        ended_since: date | None = None,
        ended_by: date | None = None,
    ) -> list[ThematicTrip]:
        """Finished trips whose report is not filed yet, oldest end first.

        ``ended_since`` / ``ended_by`` bound the end day (both included), so a reminder
        job need not reread trips from years ago. The due day depends on the province's
        rules: ``report_due(Trip(t.starts_on, t.ends_on), rules)``.
        """
        query = (
            select(ThematicTrip)
            .where(col(ThematicTrip.ends_on).is_not(None))
            .where(col(ThematicTrip.report_filed_at).is_(None))
            .order_by(col(ThematicTrip.ends_on), col(ThematicTrip.id))
        )
        if person_ids is not None:
            query = query.where(col(ThematicTrip.person_id).in_(list(set(person_ids))))
        if ended_since is not None:
            query = query.where(col(ThematicTrip.ends_on) >= ended_since)
        if ended_by is not None:
            query = query.where(col(ThematicTrip.ends_on) <= ended_by)
        return list((await self.session.exec(query)).all())

    # --- one cadre's trips -------------------------------------------------------------

    async def trip(self, trip_id: int) -> ThematicTrip | None:
        return await self.session.get(ThematicTrip, trip_id)

    async def open_trip(self, person_id: int) -> ThematicTrip | None:
        """The cadre's trip under way (started, not ended), if any."""
        query = (
            select(ThematicTrip)
            .where(ThematicTrip.person_id == person_id, col(ThematicTrip.ends_on).is_(None))
            .order_by(col(ThematicTrip.starts_on).desc())
        )
        return (await self.session.exec(query)).first()

    async def add_trip(self, trip: ThematicTrip) -> ThematicTrip:
        self.session.add(trip)
        await self.session.flush()
        return trip
