"""Images and files the bot made (charts, Excel exports), served at expiring links."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession


class MediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
