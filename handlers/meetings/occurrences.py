"""Turning a series into dated meetings, ahead of time and idempotently."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.recurrence import occurrences
from storage.models import Meeting, MeetingSeries
from storage.uow import UnitOfWork

HORIZON_DAYS = 62  # two months ahead: reminders need the dates a few days before


async def materialize(uow: UnitOfWork, series: MeetingSeries, now: datetime, tz: ZoneInfo) -> int:
    """Create the series' meetings in the horizon that do not exist yet."""
    assert series.id is not None
    start_local = series.created_at.astimezone(tz)
    added = 0
    for key, starts_at in occurrences(
        series.rule,
        series.every_months,
        series.local_time,
        (start_local.year, start_local.month),
        tz,
        now,
        now + timedelta(days=HORIZON_DAYS),
    ):
        added += await uow.meetings.add_occurrence(
            Meeting(
                unit_id=series.unit_id,
                series_id=series.id,
                occurrence=key,
                starts_at=starts_at,
                place=series.place,
                online_url=series.online_url,
                theme=series.theme,
                created_at=now,
            )
        )
    return added
