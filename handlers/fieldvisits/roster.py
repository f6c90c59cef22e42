"""The cadres a standing-committee member sees in "/canbo12", each with their "1+2" status.

Listed are the people with the cadre role under the member's units and whoever is on
the register there (the register's unit wins where they differ). Everything is read
in a handful of queries, whatever the number of cadres.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handlers.base import Context
from handlers.fieldvisits.rules import rules_for
from handlers.fieldvisits.status import committee_units, exemption_on, local_today
from scheduler.field_visits import FieldVisitRules, count_days, counting_window
from storage.models import FieldCadre, Person, Role, Unit, VisitExemption


@dataclass(frozen=True, slots=True)
class Listed:
    person: Person
    unit: Unit
    cadre: FieldCadre | None
    exemption: VisitExemption | None  # in force today
    rules: FieldVisitRules

    @property
    def person_id(self) -> int:
        assert self.person.id is not None
        return self.person.id

    @property
    def on_register(self) -> bool:
        return self.cadre is not None and self.cadre.active

    @property
    def subject(self) -> bool:
        """On the register and not exempt today: must go, and is measured."""
        return self.on_register and self.exemption is None


async def roster(ctx: Context) -> list[Listed]:
    """The cadres under this committee member's units, by unit then name."""
    assert ctx.person is not None and ctx.person.id is not None
    found: dict[int, tuple[Person, Unit, FieldCadre | None]] = {}
    for unit in await committee_units(ctx.uow, ctx.person.id):
        for person, where in await ctx.uow.plans.with_role_in(unit, Role.CADRE):
            if person.id is not None:
                found.setdefault(person.id, (person, where, None))
        for entry, person, where in await ctx.uow.plans.register_in(unit):
            found[entry.person_id] = (person, where, entry)
    today = local_today(ctx.now, ctx.settings.tz)
    exemptions = await ctx.uow.plans.exemptions(list(found))
    rules: dict[int, FieldVisitRules] = {}
    listed = []
    for pid, (person, unit, cadre) in found.items():
        assert unit.id is not None
        if unit.id not in rules:
            rules[unit.id] = await rules_for(ctx.uow, unit)
        exemption = exemption_on(exemptions.get(pid, []), today)
        listed.append(Listed(person, unit, cadre, exemption, rules[unit.id]))
    return sorted(listed, key=lambda c: (c.unit.path, c.person.full_name or ""))


async def year_days(ctx: Context, listed: list[Listed], today: date) -> dict[int, int]:
    """Days counted so far this counting year, per cadre (one query per distinct year)."""
    by_window: dict[tuple[date, date], list[int]] = {}
    for cadre in listed:
        first = counting_window(cadre.rules, today)[0]
        by_window.setdefault((first, today), []).append(cadre.person_id)
    counted: dict[int, int] = {}
    for window, people in by_window.items():
        days = await ctx.uow.visits.days_by_person(people, *window)
        counted |= {pid: count_days(days.get(pid, []), window) for pid in people}
    return counted
