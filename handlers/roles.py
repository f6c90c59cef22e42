"""Which units a person acts for: the ones they lead, the ones they belong to."""

from __future__ import annotations

from handlers.base import Context
from storage.models import LEADER_ROLES, Unit


async def led_units(ctx: Context) -> list[Unit]:
    """Units where this person is secretary, deputy, standing committee or admin."""
    assert ctx.person is not None and ctx.person.id is not None
    seen: dict[int, Unit] = {}
    for membership, unit in await ctx.uow.people.memberships(ctx.person.id):
        if membership.role in LEADER_ROLES and unit.id is not None:
            seen[unit.id] = unit
    return list(seen.values())


async def member_units(ctx: Context) -> list[Unit]:
    """Every unit this person has any role in, once each."""
    assert ctx.person is not None and ctx.person.id is not None
    seen: dict[int, Unit] = {}
    for _, unit in await ctx.uow.people.memberships(ctx.person.id):
        if unit.id is not None:
            seen[unit.id] = unit
    return list(seen.values())
