"""Meetings of a branch: series, occurrences, RSVPs and attendance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    LEADER_ROLES,
    Attendance,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Membership,
    Person,
    PersonStatus,
    Rsvp,
)
from storage.upsert import insert_ignore


class MeetingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, meeting_id: int) -> Meeting | None:
        return await self.session.get(Meeting, meeting_id)

    async def replace_series(self, series: MeetingSeries) -> MeetingSeries:
        """The unit's new regular schedule; the old one stops (its future meetings go)."""
        await self.session.execute(
            update(MeetingSeries)
            .where(col(MeetingSeries.unit_id) == series.unit_id, col(MeetingSeries.active))
            .values(active=False)
        )
        self.session.add(series)
        await self.session.flush()
        return series

    async def active_series(self) -> Sequence[MeetingSeries]:
        result = await self.session.exec(select(MeetingSeries).where(col(MeetingSeries.active)))
        return result.all()

    async def add_occurrence(self, meeting: Meeting) -> bool:
        """Idempotent: a series' occurrence exists once however often the job runs."""
        values = meeting.model_dump(exclude={"id"})
        return await insert_ignore(self.session, Meeting, values, ["series_id", "occurrence"])

    async def drop_future_of_inactive(self, unit_id: int, now: datetime) -> None:
        """Future meetings of replaced series are cancelled silently (nobody was told yet)."""
        inactive = select(MeetingSeries.id).where(
            MeetingSeries.unit_id == unit_id, col(MeetingSeries.active).is_(False)
        )
        await self.session.execute(
            update(Meeting)
            .where(
                col(Meeting.series_id).in_(inactive),
                col(Meeting.starts_at) > now,
                col(Meeting.status) == MeetingStatus.SCHEDULED,
            )
            .values(status=MeetingStatus.CANCELLED)
        )

    async def upcoming(self, unit_id: int, now: datetime, limit: int = 5) -> Sequence[Meeting]:
        result = await self.session.exec(
            select(Meeting)
            .where(
                Meeting.unit_id == unit_id,
                Meeting.status == MeetingStatus.SCHEDULED,
                col(Meeting.starts_at) > now,
            )
            .order_by(col(Meeting.starts_at))
            .limit(limit)
        )
        return result.all()

    async def between(self, start: datetime, end: datetime) -> Sequence[Meeting]:
        """Scheduled meetings starting in [start, end), for the reminder job."""
        result = await self.session.exec(
            select(Meeting)
            .where(
                Meeting.status == MeetingStatus.SCHEDULED,
                col(Meeting.starts_at) >= start,
                col(Meeting.starts_at) < end,
            )
            .order_by(col(Meeting.starts_at))
        )
        return result.all()

    async def recent_for_unit(self, unit_id: int, now: datetime, hours: float) -> Meeting | None:
        """The meeting of this unit happening around now (started or starting soon)."""
        result = await self.session.exec(
            select(Meeting)
            .where(
                Meeting.unit_id == unit_id,
                Meeting.status == MeetingStatus.SCHEDULED,
                col(Meeting.starts_at) >= now - timedelta(hours=hours),
                col(Meeting.starts_at) <= now + timedelta(hours=hours),
            )
            .order_by(col(Meeting.starts_at))
            .limit(1)
        )
        return result.first()

    async def attendees(self, unit_id: int) -> Sequence[Person]:
        """Everyone with a role in the branch itself (not its sub-units), once each."""
        result = await self.session.exec(
            select(Person)
            .join(Membership, col(Membership.person_id) == Person.id)
            .where(Membership.unit_id == unit_id, Person.status != PersonStatus.DELETED)
            .distinct()
            .order_by(col(Person.full_name))
        )
        return result.all()

    async def leaders(self, unit_id: int) -> Sequence[Person]:
        result = await self.session.exec(
            select(Person)
            .join(Membership, col(Membership.person_id) == Person.id)
            .where(
                Membership.unit_id == unit_id,
                col(Membership.role).in_([r.value for r in LEADER_ROLES]),
                Person.status == PersonStatus.ACTIVE,
            )
            .distinct()
        )
        return result.all()

    async def set_rsvp(
        self, meeting_id: int, person_id: int, answer: str, reason: str | None, now: datetime
    ) -> None:
        result = await self.session.exec(
            select(Rsvp).where(Rsvp.meeting_id == meeting_id, Rsvp.person_id == person_id)
        )
        rsvp = result.first() or Rsvp(meeting_id=meeting_id, person_id=person_id, answer=answer)
        rsvp.answer, rsvp.reason, rsvp.answered_at = answer, reason, now
        self.session.add(rsvp)
        await self.session.flush()

    async def rsvps(self, meeting_id: int) -> dict[int, Rsvp]:
        result = await self.session.exec(select(Rsvp).where(Rsvp.meeting_id == meeting_id))
        return {r.person_id: r for r in result.all()}

    async def check_in(
        self, meeting_id: int, person_id: int, method: str, now: datetime, by: int | None = None
    ) -> bool:
        """Record presence once; False when already recorded."""
        return await insert_ignore(
            self.session,
            Attendance,
            {
                "meeting_id": meeting_id,
                "person_id": person_id,
                "method": method,
                "marked_by_person_id": by,
                "at": now,
            },
            ["meeting_id", "person_id"],
        )

    async def present(self, meeting_id: int) -> set[int]:
        result = await self.session.exec(
            select(Attendance.person_id).where(Attendance.meeting_id == meeting_id)
        )
        return set(result.all())

    async def history(
        self, unit_id: int, person_id: int, until: datetime
    ) -> list[tuple[datetime, bool]]:
        """(start, present) at the unit's meetings up to ``until`` inclusive, oldest first."""
        meetings = await self.session.exec(
            select(Meeting.id, Meeting.starts_at)
            .where(
                Meeting.unit_id == unit_id,
                Meeting.status == MeetingStatus.SCHEDULED,
                col(Meeting.starts_at) <= until,
            )
            .order_by(col(Meeting.starts_at))
        )
        rows = list(meetings.all())
        if not rows:
            return []
        seen = await self.session.exec(
            select(Attendance.meeting_id).where(
                Attendance.person_id == person_id,
                col(Attendance.meeting_id).in_([mid for mid, _ in rows]),
            )
        )
        present = set(seen.all())
        return [(starts_at, mid in present) for mid, starts_at in rows]


class BranchMonth:
    """One unit's meetings in a period: held, people present, people expected."""

    __slots__ = ("expected", "held", "present")

    def __init__(self) -> None:
        self.held = 0
        self.present = 0
        self.expected = 0


async def meeting_stats(
    session: AsyncSession, unit_ids: list[int], start: datetime, end: datetime
) -> dict[int, BranchMonth]:
    """Per unit: meetings held in [start, end), attendance, and members x meetings expected.

    Three grouped queries whatever the number of units, so a province's report stays fast.
    """
    stats = {unit_id: BranchMonth() for unit_id in unit_ids}
    in_period = (
        col(Meeting.unit_id).in_(unit_ids),
        Meeting.status == MeetingStatus.SCHEDULED,
        col(Meeting.starts_at) >= start,
        col(Meeting.starts_at) < end,
    )
    held = await session.exec(
        select(Meeting.unit_id, func.count()).where(*in_period).group_by(col(Meeting.unit_id))
    )
    for unit_id, count in held.all():
        stats[unit_id].held = count
    present = await session.exec(
        select(Meeting.unit_id, func.count())
        .join(Attendance, col(Attendance.meeting_id) == Meeting.id)
        .where(*in_period)
        .group_by(col(Meeting.unit_id))
    )
    for unit_id, count in present.all():
        stats[unit_id].present = count
    members = await session.exec(
        select(Membership.unit_id, func.count(func.distinct(Membership.person_id)))
        .join(Person, col(Person.id) == Membership.person_id)
        .where(col(Membership.unit_id).in_(unit_ids), Person.status != PersonStatus.DELETED)
        .group_by(col(Membership.unit_id))
    )
    for unit_id, count in members.all():
        stats[unit_id].expected = count * stats[unit_id].held
    return stats
