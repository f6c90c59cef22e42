"""Builds the APScheduler instance with the bot's jobs.

Every process runs a scheduler, but a job only does its work in the process that
holds the leader lock, so several bot processes on one database never double up.
Jobs are interval ticks that look in the database for what is due: nothing about
them needs to survive a restart, and a tick missed while the bot was down is
simply done by the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.config import Settings
from scheduler import field_jobs, jobs, meetings, oneplusone, oneplusone_summary, polls
from storage.db import Database

log = logging.getLogger(__name__)


def leader_only(
    is_leader: Callable[[], bool], job: Callable[..., Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:
    async def run(*args: Any) -> Any:
        if not is_leader():
            return None
        try:
            return await job(*args)
        except Exception:
            log.exception("job %s failed; the next tick tries again", job.__name__)
            return None

    run.__name__ = job.__name__
    return run


def build_scheduler(
    db: Database, settings: Settings, clock: Clock, is_leader: Callable[[], bool]
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    tick = settings.scheduler_tick_seconds

    def every(seconds: float, job: Callable[..., Awaitable[Any]], *args: Any) -> None:
        scheduler.add_job(
            leader_only(is_leader, job),
            "interval",
            seconds=seconds,
            args=list(args),
            id=job.__name__,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    every(tick, meetings.send_meeting_reminders, db, settings, clock)
    every(tick, meetings.send_meeting_summaries, db, settings, clock)
    every(max(tick, 300), meetings.materialize_meetings, db, settings, clock)
    every(3600, meetings.flag_unmet_branches, db, settings, clock)
    every(tick, polls.open_due_polls, db, settings, clock)
    every(tick, polls.nudge_polls, db, settings, clock)
    every(tick, polls.close_due_polls, db, settings, clock)
    # "1+2": cheap outside their days (a date check); inside, a few queries a tick.
    every(tick, field_jobs.request_quarterly_plans, db, settings, clock)
    every(tick, field_jobs.nudge_behind_pace, db, settings, clock)
    every(tick, field_jobs.remind_trip_reports, db, settings, clock)
    # "1+1": the reminder is one small query outside its days; lapsing, one indexed query.
    every(tick, oneplusone.remind_behind_members, db, settings, clock)
    every(tick, oneplusone.lapse_referrals, db, settings, clock)
    every(tick, oneplusone.ask_after_activities, db, settings, clock)
    every(tick, oneplusone_summary.summarise_for_secretaries, db, settings, clock)
    every(300, jobs.purge_expired_conversations, db, clock)
    every(3600, jobs.purge_expired_media, db, clock)
    every(6 * 3600, jobs.prune_delivery_records, db, clock, settings.retention_days)
    return scheduler
