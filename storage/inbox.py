"""The inbox: every update is stored before the platform is told it arrived.

Its unique (channel, update_key) is the de-duplication record: a repeated update
inserts nothing. Processed rows keep only the key (the payload is cleared) and are
pruned after the retention period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Incoming
from storage.models import InboxEvent, InboxStatus
from storage.types import utcnow
from storage.upsert import insert_ignore


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def accept(self, incoming: Incoming) -> bool:
        """Store an update; False when it was seen before (a repeat)."""
        return await insert_ignore(
            self.session,
            InboxEvent,
            {
                "channel": incoming.channel.value,
                "update_key": incoming.update_key,
                "user_key": incoming.user_key,
                "payload": incoming.to_json(),
                "status": InboxStatus.PENDING.value,
                "attempts": 0,
                "received_at": utcnow(),
            },
            ["channel", "update_key"],
        )

    async def pending_user_keys(self) -> Sequence[str]:
        result = await self.session.exec(
            select(InboxEvent.user_key).where(InboxEvent.status == InboxStatus.PENDING).distinct()
        )
        return result.all()

    async def next_pending(self, user_key: str) -> InboxEvent | None:
        result = await self.session.exec(
            select(InboxEvent)
            .where(InboxEvent.status == InboxStatus.PENDING, InboxEvent.user_key == user_key)
            .order_by(col(InboxEvent.id))
            .limit(1)
        )
        return result.first()

    async def finish(self, event: InboxEvent, status: InboxStatus, now: datetime) -> None:
        event.status = status
        event.payload = None
        event.processed_at = now
        self.session.add(event)
        await self.session.flush()

    async def count_attempt(self, event_id: int) -> int:
        await self.session.execute(
            update(InboxEvent)
            .where(col(InboxEvent.id) == event_id)
            .values(attempts=InboxEvent.attempts + 1)
        )
        event = await self.session.get(InboxEvent, event_id)
        return event.attempts if event else 0

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(InboxEvent).where(
                col(InboxEvent.status) != InboxStatus.PENDING,
                col(InboxEvent.processed_at) < before,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
