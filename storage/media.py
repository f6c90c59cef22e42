"""Images and files the bot made (charts, Excel exports), served at expiring links.

A row is written in the transaction that decides to send it, next to the outbox row
that names its token (``Outgoing.media_token``). The token is the whole secret of the
download link ``/media/{token}``: 24 random bytes, never logged. Rows are kept until
``expires_at`` and then purged by the scheduler (``scheduler.jobs.purge_expired_media``).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Media

#: Longest file name kept (the column's size); longer names are cut, keeping the extension.
NAME_LIMIT = 200


def _fit_name(name: str) -> str:
    name = name.replace("/", "_").replace("\\", "_").strip()
    if len(name) <= NAME_LIMIT:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) < 10:
        return stem[: NAME_LIMIT - len(ext) - 1] + "." + ext
    return name[:NAME_LIMIT]


class MediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(
        self, data: bytes, content_type: str, *, now: datetime, ttl: timedelta, name: str = ""
    ) -> str:
        """Store ``data`` until ``now + ttl``; returns the token of its link."""
        if not data:
            raise ValueError("cannot store empty media")
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        token = secrets.token_urlsafe(24)
        self.session.add(
            Media(
                token=token,
                content_type=content_type,
                name=_fit_name(name),
                data=data,
                created_at=now,
                expires_at=now + ttl,
            )
        )
        await self.session.flush()
        return token

    async def get(self, token: str, now: datetime) -> Media | None:
        """The media behind ``token``; None when unknown or expired (even if not purged)."""
        result = await self.session.exec(
            select(Media).where(col(Media.token) == token, col(Media.expires_at) > now)
        )
        return result.first()

    async def purge_expired(self, now: datetime) -> int:
        """Delete what has expired; returns how many rows went."""
        result = await self.session.execute(delete(Media).where(col(Media.expires_at) <= now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
