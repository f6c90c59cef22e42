""" "1+1" targets: per member per year, set by the nearest unit up the tree (or the default)."""

from __future__ import annotations

from datetime import date, datetime

from bot.config import Settings
from storage.models import Unit
from storage.uow import UnitOfWork

SETTING = "oneplusone_target"


async def per_member_target(uow: UnitOfWork, unit: Unit, settings: Settings) -> int:
    """Young people each member of ``unit`` is to bring in a year."""
    for candidate in [unit, *reversed(await uow.units.ancestors(unit))]:
        value = candidate.settings.get(SETTING)
        if value is not None:
            return max(1, int(value))
    return settings.oneplusone_target


def local_today(now: datetime, settings: Settings) -> date:
    return now.astimezone(settings.tz).date()
