"""The outbox: every message to a chat is a row first, sent after the transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Outgoing
from storage.models import OutboxMessage, OutboxStatus
from storage.upsert import insert_ignore

INTERACTIVE = 0
BULK = 10


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        channel: str,
        out: Outgoing,
        *,
        now: datetime,
        priority: int = INTERACTIVE,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Queue one action; with a dedupe key a second identical decision is a no-op."""
        values: dict[str, Any] = {
            "channel": channel,
            "chat_id": out.chat_id,
            "priority": priority,
            "payload": out.to_json(),
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "not_before": not_before or now,
            "created_at": now,
            "dedupe_key": dedupe_key,
        }
        if dedupe_key is None:
            self.session.add(OutboxMessage(**values))
            await self.session.flush()
            return True
        return await insert_ignore(self.session, OutboxMessage, values, ["dedupe_key"])

    async def due(self, now: datetime, limit: int, exclude: set[int]) -> Sequence[OutboxMessage]:
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                col(OutboxMessage.not_before) <= now,
            )
            .order_by(col(OutboxMessage.priority), col(OutboxMessage.id))
            .limit(limit)
        )
        if exclude:
            query = query.where(col(OutboxMessage.id).not_in(exclude))
        result = await self.session.exec(query)
        return result.all()

    async def next_due_at(self) -> datetime | None:
        result = await self.session.exec(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        )
        return result.first()

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def counts(self) -> dict[str, int]:
        result = await self.session.exec(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: count for status, count in result.all()}

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(OutboxMessage).where(
                col(OutboxMessage.status) == OutboxStatus.SENT,
                col(OutboxMessage.sent_at) < before,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
