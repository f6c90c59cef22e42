"""Invitations to a unit and role, and one-time codes that link a second channel."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.codes import new_code
from storage.models import Invite, LinkCode, Recruit


class InviteProblem(enum.StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED_UP = "used_up"
    REVOKED = "revoked"


async def unused_code(session: AsyncSession) -> str:
    """A new code that no invite, channel link or referral link has: one typed code,
    one meaning."""
    while True:
        code = new_code()
        clashes = [
            await session.exec(select(Invite.id).where(Invite.code == code)),
            await session.exec(select(LinkCode.id).where(LinkCode.code == code)),
            await session.exec(select(Recruit.id).where(Recruit.code == code)),
        ]
        if all(found.first() is None for found in clashes):
            return code


class InviteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _unused_code(self) -> str:
        return await unused_code(self.session)

    async def create(
        self,
        *,
        unit_id: int,
        role: str,
        now: datetime,
        valid_for: timedelta,
        max_uses: int | None = None,
        person_id: int | None = None,
        created_by_person_id: int | None = None,
    ) -> Invite:
        invite = Invite(
            code=await self._unused_code(),
            unit_id=unit_id,
            role=role,
            person_id=person_id,
            created_by_person_id=created_by_person_id,
            max_uses=max_uses,
            created_at=now,
            expires_at=now + valid_for,
        )
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def by_code(self, code: str) -> Invite | None:
        result = await self.session.exec(select(Invite).where(Invite.code == code))
        return result.first()

    @staticmethod
    def problem(invite: Invite | None, now: datetime) -> InviteProblem | None:
        """Why this invite cannot be used now, or None when it can."""
        if invite is None:
            return InviteProblem.UNKNOWN
        if invite.revoked_at is not None:
            return InviteProblem.REVOKED
        if invite.expires_at <= now:
            return InviteProblem.EXPIRED
        if invite.max_uses is not None and invite.uses >= invite.max_uses:
            return InviteProblem.USED_UP
        return None

    async def use(self, invite: Invite) -> None:
        invite.uses += 1
        self.session.add(invite)
        await self.session.flush()

    async def create_link_code(
        self, person_id: int, now: datetime, valid_for: timedelta
    ) -> LinkCode:
        link = LinkCode(
            code=await self._unused_code(),
            person_id=person_id,
            created_at=now,
            expires_at=now + valid_for,
        )
        self.session.add(link)
        await self.session.flush()
        return link

    async def link_code(self, code: str) -> LinkCode | None:
        result = await self.session.exec(select(LinkCode).where(LinkCode.code == code))
        return result.first()
