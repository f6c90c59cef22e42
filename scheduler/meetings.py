"""Meeting jobs: dates ahead, reminders when due, a summary after. Run by the leader only.

Each job decides in one transaction and writes outbox rows with dedupe keys, so a
restart, a repeated tick or a second leader after failover sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.clock import Clock
from bot.config import Settings
from bot.formatting import format_datetime
from bot.i18n import N_, Translator
from handlers.meetings.attend import rsvp_choices
from handlers.meetings.common import where
from handlers.meetings.occurrences import materialize
from handlers.meetings.summary import summary_text
from handlers.notify import notify
from scheduler.quiet import next_allowed
from scheduler.reminders import reminder_times
from storage.db import Database
from storage.meetings import meeting_stats
from storage.models import Meeting, OutboxMessage, Unit
from storage.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)
SUMMARY_AFTER = timedelta(hours=3)
UNMET_NOTICE_DAYS = 7  # the first week of a month


def unit_setting(unit: Unit, settings: Settings, name: str) -> Any:
    """A unit's own value for a setting, or the deployment's default."""
    return unit.settings.get(name, getattr(settings, name))


async def materialize_meetings(db: Database, settings: Settings, clock: Clock) -> int:
    async with unit_of_work(db) as uow:
        added = 0
        for series in await uow.meetings.active_series():
            added += await materialize(uow, series, clock(), settings.tz)
        await uow.commit()
    return added


async def send_meeting_reminders(db: Database, settings: Settings, clock: Clock) -> int:
    """Queue every reminder that has come due for meetings in the coming days."""
    now = clock()
    horizon = now + timedelta(days=settings.secretary_reminder_days + 2)
    async with unit_of_work(db) as uow:
        queued = 0
        for meeting in await uow.meetings.between(now, horizon):
            queued += await _remind(uow, meeting, settings, now)
        await uow.commit()
    if queued:
        log.info("queued %d meeting reminders", queued)
    return queued


async def _remind(uow: UnitOfWork, meeting: Meeting, settings: Settings, now: datetime) -> int:
    unit = await uow.units.get(meeting.unit_id)
    assert unit is not None and meeting.id is not None
    tz = settings.tz
    quiet = (unit_setting(unit, settings, "quiet_start"), unit_setting(unit, settings, "quiet_end"))
    plan = reminder_times(
        meeting.starts_at,
        now,
        int(unit_setting(unit, settings, "secretary_reminder_days")),
        list(unit_setting(unit, settings, "member_reminder_hours")),
    )
    queued = 0
    for kind, due in plan:
        done_tag = f"v{meeting.version}:{kind}"
        if due > now or done_tag in meeting.reminders_done:
            continue
        meeting.reminders_done = [*meeting.reminders_done, done_tag]
        uow.session.add(meeting)
        send_at = next_allowed(max(due, now), tz, *quiet)
        if send_at >= meeting.starts_at:
            continue  # quiet hours last until the meeting: a late reminder helps nobody
        prep = kind == "secretary_prep"
        people = await (uow.meetings.leaders if prep else uow.meetings.attendees)(meeting.unit_id)
        for person in people:
            if person.id is None or (person.mute_reminders and not prep):
                continue
            queued += await notify(
                uow,
                person,
                N_("meeting.prep_reminder") if prep else N_("meeting.member_reminder"),
                now=now,
                category="reminder",
                dedupe_key=f"meeting:{meeting.id}:v{meeting.version}:{person.id}:{kind}",
                not_before=send_at,
                choices=[] if prep else rsvp_choices(meeting.id),
                hint_key=None if prep else N_("meeting.rsvp_hint"),
                unit=unit.name,
                when=format_datetime(meeting.starts_at, tz),
                where=where(meeting),
                theme=meeting.theme or "-",
            )
    return queued


async def send_meeting_summaries(db: Database, settings: Settings, clock: Clock) -> int:
    """Some hours after a meeting, its secretary gets the attendance summary (once)."""
    now = clock()
    async with unit_of_work(db) as uow:
        sent = 0
        for meeting in await uow.meetings.between(now - timedelta(days=2), now - SUMMARY_AFTER):
            assert meeting.id is not None
            if meeting.summary_sent_at is not None:
                continue
            meeting.summary_sent_at = now
            texts: dict[str, str] = {}  # one summary per language, not per leader
            for leader in await uow.meetings.leaders(meeting.unit_id):
                if leader.locale not in texts:
                    t = Translator(leader.locale)
                    texts[leader.locale] = await summary_text(uow, meeting, t, settings)
                sent += await notify(
                    uow,
                    leader,
                    N_("summary.wrapper"),
                    now=now,
                    category="reminder",
                    dedupe_key=f"meeting:{meeting.id}:{leader.id}:summary",
                    summary=texts[leader.locale],
                )
            if meeting.checkin_closed_at is None and meeting.checkin_code is not None:
                meeting.checkin_closed_at = now
            uow.session.add(meeting)
        await uow.commit()
    return sent


async def flag_unmet_branches(db: Database, settings: Settings, clock: Clock) -> int:
    """In the first days of a month, tell each grassroots union which branches did not meet.

    Runs hourly; once any flag for last month exists the work is skipped, and the
    dedupe keys make a second leader or a restart harmless anyway.
    """
    now = clock()
    local = now.astimezone(settings.tz)
    if local.day > UNMET_NOTICE_DAYS or local.hour < 8:
        return 0
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    tag = f"unmet:{year}-{month:02d}"
    start = datetime(year, month, 1, tzinfo=settings.tz)
    end = datetime(local.year, local.month, 1, tzinfo=settings.tz)
    async with unit_of_work(db) as uow:
        done = await uow.session.exec(
            select(OutboxMessage.id).where(col(OutboxMessage.dedupe_key).startswith(tag)).limit(1)
        )
        if done.first() is not None:
            return 0
        units = list(await uow.units.all())
        parents = {u.parent_id for u in units}
        branches = [u for u in units if u.id not in parents and u.parent_id is not None]
        stats = await meeting_stats(uow.session, [u.id for u in branches if u.id], start, end)
        by_parent: dict[int, list[str]] = {}
        for unit in branches:
            if unit.id is not None and stats[unit.id].held == 0 and unit.parent_id is not None:
                by_parent.setdefault(unit.parent_id, []).append(unit.name)
        sent = 0
        for parent_id, names in by_parent.items():
            parent = await uow.units.get(parent_id)
            assert parent is not None
            for leader in await uow.meetings.leaders(parent_id):
                sent += await notify(
                    uow,
                    leader,
                    N_("meeting.unmet_notice"),
                    now=now,
                    category="reminder",
                    dedupe_key=f"{tag}:{parent_id}:{leader.id}",
                    not_before=next_allowed(
                        now, settings.tz, settings.quiet_start, settings.quiet_end
                    ),
                    unit=parent.name,
                    month=f"{month:02d}/{year}",
                    branches=", ".join(names),
                )
        await uow.commit()
    return sent
