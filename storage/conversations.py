"""Conversation state rows, keyed by (channel, chat, user)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Conversation


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: str, chat_id: str, user_id: str) -> Conversation | None:
        return await self.session.get(Conversation, (channel, chat_id, user_id))

    async def save(self, state: Conversation) -> None:
        await self.session.merge(state)
        await self.session.flush()

    async def delete(self, channel: str, chat_id: str, user_id: str) -> None:
        await self.session.execute(
            delete(Conversation).where(
                col(Conversation.channel) == channel,
                col(Conversation.chat_id) == chat_id,
                col(Conversation.user_id) == user_id,
            )
        )

    async def delete_for_user(self, channel: str, user_id: str) -> None:
        await self.session.execute(
            delete(Conversation).where(
                col(Conversation.channel) == channel, col(Conversation.user_id) == user_id
            )
        )

    async def purge_expired(self, now: datetime) -> int:
        result = await self.session.execute(
            delete(Conversation).where(col(Conversation.expires_at) < now)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
