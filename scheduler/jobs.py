"""Housekeeping jobs: module-level async functions that take what they need."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.clock import Clock
from storage.db import Database
from storage.uow import unit_of_work

log = logging.getLogger(__name__)


async def purge_expired_conversations(db: Database, clock: Clock) -> int:
    """Drop conversations nobody finished in time (they may hold a half-typed name)."""
    async with unit_of_work(db) as uow:
        count = await uow.conversations.purge_expired(clock())
        await uow.commit()
    if count:
        log.info("dropped %d expired conversations", count)
    return count


async def prune_delivery_records(db: Database, clock: Clock, retention_days: int) -> int:
    """Forget processed-update keys and sent messages older than the retention period."""
    before = clock() - timedelta(days=retention_days)
    async with unit_of_work(db) as uow:
        count = await uow.inbox.prune(before) + await uow.outbox.prune(before)
        await uow.commit()
    return count


async def purge_expired_media(db: Database, clock: Clock) -> int:
    """Delete charts and files whose links have expired (nobody can fetch them any more)."""
    async with unit_of_work(db) as uow:
        count = await uow.media.purge_expired(clock())
        await uow.commit()
    if count:
        log.info("deleted %d expired charts and files", count)
    return count
