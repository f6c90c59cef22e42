"""People, their roles in units and their channel identities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ChannelIdentity,
    Consent,
    Invite,
    LinkCode,
    Membership,
    Person,
    PersonStatus,
    Recruit,
    Unit,
)
from storage.units import subtree_bounds


class PersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, person_id: int) -> Person | None:
        return await self.session.get(Person, person_id)

    async def add(self, full_name: str, locale: str, status: PersonStatus) -> Person:
        person = Person(full_name=full_name, locale=locale, status=status)
        self.session.add(person)
        await self.session.flush()
        return person

    async def names(self, person_ids: Sequence[int]) -> dict[int, str]:
        """Full names by id (people who erased their data are left out)."""
        if not person_ids:
            return {}
        result = await self.session.exec(
            select(Person).where(col(Person.id).in_(list(set(person_ids))))
        )
        return {p.id: p.full_name for p in result.all() if p.id is not None and p.full_name}

    async def identity(self, channel: str, platform_user_id: str) -> ChannelIdentity | None:
        result = await self.session.exec(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel,
                ChannelIdentity.platform_user_id == platform_user_id,
            )
        )
        return result.first()

    async def identities(self, person_id: int) -> Sequence[ChannelIdentity]:
        result = await self.session.exec(
            select(ChannelIdentity)
            .where(ChannelIdentity.person_id == person_id)
            .order_by(col(ChannelIdentity.id))
        )
        return result.all()

    async def add_identity(
        self, person: Person, channel: str, platform_user_id: str, chat_id: str, now: datetime
    ) -> ChannelIdentity:
        assert person.id is not None
        identity = ChannelIdentity(
            person_id=person.id,
            channel=channel,
            platform_user_id=platform_user_id,
            chat_id=chat_id,
            last_seen_at=now,
            created_at=now,
        )
        self.session.add(identity)
        await self.session.flush()
        return identity

    async def memberships(self, person_id: int) -> Sequence[tuple[Membership, Unit]]:
        result = await self.session.exec(
            select(Membership, Unit)
            .join(Unit, col(Unit.id) == Membership.unit_id)
            .where(Membership.person_id == person_id)
            .order_by(col(Unit.path), col(Membership.role))
        )
        return result.all()

    async def add_membership(self, person: Person, unit: Unit, role: str) -> Membership | None:
        """Give ``person`` ``role`` in ``unit``; None when they already have it."""
        assert person.id is not None and unit.id is not None
        existing = await self.session.exec(
            select(Membership).where(
                Membership.person_id == person.id,
                Membership.unit_id == unit.id,
                Membership.role == role,
            )
        )
        if existing.first():
            return None
        membership = Membership(person_id=person.id, unit_id=unit.id, role=role)
        self.session.add(membership)
        await self.session.flush()
        return membership

    async def in_subtree(self, unit: Unit) -> Sequence[tuple[Person, Membership, Unit]]:
        """Everyone with a role anywhere under ``unit`` (one row per role)."""
        low, high = subtree_bounds(unit.path)
        result = await self.session.exec(
            select(Person, Membership, Unit)
            .join(Membership, col(Membership.person_id) == Person.id)
            .join(Unit, col(Unit.id) == Membership.unit_id)
            .where(col(Unit.path) >= low, col(Unit.path) < high)
            .where(Person.status != PersonStatus.DELETED)
            .order_by(col(Unit.path), col(Person.full_name), col(Membership.role))
        )
        return result.all()

    async def merge_into(self, old: Person, new: Person, now: datetime) -> None:
        """``old`` turns out to be ``new`` (a "1+1" guest who is on a roster): their accounts,
        consents and confirmed records move to ``new``; ``old`` is left as a tombstone."""
        for model in (ChannelIdentity, Consent):
            await self.session.execute(
                update(model).where(col(model.person_id) == old.id).values(person_id=new.id)
            )
        await self.session.execute(
            update(Recruit)
            .where(col(Recruit.recruit_person_id) == old.id)
            .values(recruit_person_id=new.id)
        )
        old.full_name, old.status, old.deleted_at = None, PersonStatus.DELETED, now
        self.session.add(old)
        await self.session.flush()

    async def erase(self, person: Person, now: datetime) -> None:
        """Delete a person's personal data; the row stays as a tombstone for the consent proof."""
        pid = person.id
        for table, column in (
            (ChannelIdentity, ChannelIdentity.person_id),
            (Membership, Membership.person_id),
            (LinkCode, LinkCode.person_id),
            (Invite, Invite.person_id),
        ):
            await self.session.execute(delete(table).where(column == pid))  # type: ignore[arg-type]
        person.full_name = None
        person.status = PersonStatus.DELETED
        person.deleted_at = now
        self.session.add(person)
        await self.session.flush()
