"""What the meeting flows share: which branch, how a meeting reads, telling members."""

from __future__ import annotations

from datetime import datetime

from bot.formatting import format_datetime
from handlers.base import Context
from handlers.notify import notify
from storage.models import Meeting
from storage.uow import UnitOfWork


def when(ctx: Context, meeting: Meeting) -> str:
    return format_datetime(meeting.starts_at, ctx.settings.tz)


def where(meeting: Meeting) -> str:
    return meeting.online_url or meeting.place or "-"


def describe(ctx: Context, meeting: Meeting) -> str:
    """One short block a phone screen can show."""
    return ctx.t(
        "meeting.line",
        when=when(ctx, meeting),
        where=where(meeting),
        theme=meeting.theme or "-",
    )


async def tell_attendees(
    uow: UnitOfWork,
    meeting: Meeting,
    key: str,
    *,
    now: datetime,
    tag: str,
    tz_when: str,
    skip_person: int | None = None,
) -> int:
    """An urgent notice (moved, cancelled) to everyone of the branch, once per decision."""
    unit = await uow.units.get(meeting.unit_id)
    assert unit is not None and meeting.id is not None
    sent = 0
    for person in await uow.meetings.attendees(meeting.unit_id):
        if person.id is None or person.id == skip_person:
            continue
        sent += await notify(
            uow,
            person,
            key,
            now=now,
            category="reminder",
            dedupe_key=f"meeting:{meeting.id}:v{meeting.version}:{person.id}:{tag}",
            unit=unit.name,
            when=tz_when,
            where=where(meeting),
        )
    return sent
