"""What the jobs and flows that write to people share: when in the day a job speaks, who
was told already, and when a message may go out after a unit's quiet hours."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from bot.config import Settings
from scheduler.quiet import next_allowed
from storage.models import OutboxMessage, Unit
from storage.uow import UnitOfWork

DAYTIME_FROM = 8  # local hour: a request at 00:01 would wait for the quiet hours anyway


def daytime(now: datetime, settings: Settings) -> datetime | None:
    """``now`` in local time if a monthly or quarterly job may speak now, else None."""
    local = now.astimezone(settings.tz)
    return local if local.hour >= DAYTIME_FROM else None


async def already_told(uow: UnitOfWork, tag: str) -> set[int]:
    """People with a message whose dedupe key starts with ``tag``: one cheap query a tick."""
    result = await uow.session.exec(
        select(OutboxMessage.person_id)
        .where(col(OutboxMessage.dedupe_key).startswith(tag))
        .distinct()
    )
    return {pid for pid in result.all() if pid is not None}


def send_time(unit: Unit | None, settings: Settings, now: datetime) -> datetime:
    """When a notice to someone of ``unit`` may go out: after the unit's quiet hours."""
    own = unit.settings if unit is not None else {}
    quiet = (own.get("quiet_start", settings.quiet_start), own.get("quiet_end", settings.quiet_end))
    return next_allowed(now, settings.tz, *quiet)
