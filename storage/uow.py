"""One unit of work per event: repositories share a session; nothing commits but ``commit``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import AuditRepository
from storage.conversations import ConversationRepository
from storage.db import Database
from storage.field_visits import FieldVisitRepository
from storage.inbox import InboxRepository
from storage.invites import InviteRepository
from storage.media import MediaRepository
from storage.meetings import MeetingRepository
from storage.outbox import OutboxRepository
from storage.people import PersonRepository
from storage.polls import PollRepository
from storage.recruits import RecruitRepository
from storage.units import UnitRepository
from storage.visit_plans import VisitPlanRepository


class UnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.units = UnitRepository(session)
        self.people = PersonRepository(session)
        self.invites = InviteRepository(session)
        self.conversations = ConversationRepository(session)
        self.inbox = InboxRepository(session)
        self.outbox = OutboxRepository(session)
        self.audit = AuditRepository(session)
        self.meetings = MeetingRepository(session)
        self.polls = PollRepository(session)
        self.media = MediaRepository(session)
        self.visits = FieldVisitRepository(session)
        self.plans = VisitPlanRepository(session)
        self.recruits = RecruitRepository(session)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


@asynccontextmanager
async def unit_of_work(db: Database) -> AsyncIterator[UnitOfWork]:
    """Rolls back whatever was not committed when the block ends.

    Closing (rather than ``rollback()``) discards the open transaction without expiring
    the objects already loaded, so callers may keep reading them afterwards.
    """
    async with db.session() as session:
        try:
            yield UnitOfWork(session)
        finally:
            await session.close()
