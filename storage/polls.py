"""Polls: questions, who was asked, and answers (one per person and question)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession


class PollRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
