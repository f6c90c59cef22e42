"""Builds the APScheduler instance with the bot's jobs."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.config import Settings
from scheduler import jobs
from storage.db import Database


def build_scheduler(db: Database, settings: Settings, clock: Clock) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    scheduler.add_job(
        jobs.purge_expired_conversations,
        "interval",
        minutes=5,
        args=[db, clock],
        id="purge_expired_conversations",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        jobs.prune_delivery_records,
        "interval",
        hours=6,
        args=[db, clock, settings.retention_days],
        id="prune_delivery_records",
        coalesce=True,
        max_instances=1,
    )
    return scheduler
