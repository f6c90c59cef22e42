"""Which "1+2" rules apply to a cadre: the nearest unit up the tree that sets them.

A province writes its numbers in its unit settings, under ``"field_visits"``
(``doanbot units set AP visit_target_days=30 visit_window_start_month=3``);
whatever it does not set keeps the default of :class:`FieldVisitRules`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from scheduler.field_visits import FieldVisitRules
from storage.models import Unit
from storage.uow import UnitOfWork

SETTINGS_KEY = "field_visits"
RULE_NAMES = frozenset(f.name for f in dataclasses.fields(FieldVisitRules))


def rules_from(settings: dict[str, Any]) -> FieldVisitRules:
    """The rules a unit's settings give; unknown names are ignored, bad values refused."""
    own = settings.get(SETTINGS_KEY) or {}
    values = {k: int(v) for k, v in own.items() if k in RULE_NAMES}
    return FieldVisitRules(**values)


async def rules_for(uow: UnitOfWork, unit: Unit) -> FieldVisitRules:
    """The rules of ``unit``: its own settings, else the nearest ancestor's, else defaults."""
    for candidate in [unit, *reversed(await uow.units.ancestors(unit))]:
        if candidate.settings.get(SETTINGS_KEY):
            return rules_from(candidate.settings)
    return FieldVisitRules()
