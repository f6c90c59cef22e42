"""What the "1+2" flows share: who is a cadre, their rules, days in words, finding a unit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.i18n import N_
from bot.matching import fold
from handlers.base import Context
from handlers.fieldvisits.rules import rules_for
from scheduler.field_visits import FieldVisitRules, counting_window, needs_approval_late
from scheduler.visit_days import DaysParse, DaysProblem
from storage.models import Role, Unit, VisitKind
from storage.uow import UnitOfWork

KIND_LABELS = {
    VisitKind.TRIP.value: N_("visit.kind_trip"),
    VisitKind.ACTIVITY.value: N_("visit.kind_activity"),
    VisitKind.INSPECTION.value: N_("visit.kind_inspection"),
    VisitKind.MEETING.value: N_("visit.kind_meeting"),
    VisitKind.TRAINING.value: N_("visit.kind_training"),
    VisitKind.OTHER.value: N_("visit.kind_other"),
}
NOTE_MAX = 500  # FieldVisit.note
UNITS_SHOWN = 8  # matches of a unit search shown at once: a phone screen
RECENT_UNITS = 4
QUERY_MIN = 2
PROVINCE_KINDS = frozenset({"province", "city"})
PROBLEM_KEYS = {
    DaysProblem.NOT_A_DATE: N_("visit.days_not_a_date"),
    DaysProblem.IMPOSSIBLE: N_("visit.days_impossible"),
    DaysProblem.FUTURE: N_("visit.days_future"),
    DaysProblem.RANGE_BACKWARDS: N_("visit.days_backwards"),
    DaysProblem.TOO_LONG: N_("visit.days_too_long"),
}


@dataclass(frozen=True, slots=True)
class Cadre:
    """A full-time cadre subject to "1+2": where they work and the rules that apply."""

    person_id: int
    unit: Unit
    rules: FieldVisitRules


async def cadre_of(ctx: Context) -> Cadre | None:
    """The talking person as a cadre: an active FieldCadre row, or the role "cadre"."""
    if ctx.person is None or ctx.person.id is None:
        return None
    return await cadre_by_id(ctx.uow, ctx.person.id)


async def cadre_by_id(uow: UnitOfWork, person_id: int) -> Cadre | None:
    marked = await uow.visits.cadre(person_id)
    unit = await uow.units.get(marked.unit_id) if marked is not None and marked.active else None
    if unit is None:
        roles = await uow.people.memberships(person_id)
        unit = next((u for m, u in roles if m.role == Role.CADRE), None)
    if unit is None:
        return None
    return Cadre(person_id, unit, await rules_for(uow, unit))


async def require_cadre(ctx: Context, *, command: bool = False) -> Cadre | None:
    """The cadre, or None after saying (politely) that this is for full-time cadres.

    Typed as a command, the refusal leaves whatever conversation was open as it was
    (and shows its question again); inside a "1+2" flow it ends the flow.
    """
    cadre = await cadre_of(ctx)
    if cadre is None:
        ctx.say(ctx.t("visit.not_cadre"))
        if command:
            ctx.repeat_question()
        else:
            ctx.finish()
    return cadre


def today(ctx: Context) -> date:
    """The local calendar day (Asia/Ho_Chi_Minh by default) on the bot's clock."""
    return ctx.now.astimezone(ctx.settings.tz).date()


def day_text(day: date, this_year: int) -> str:
    """ "12/11" in the current year, "12/11/2025" otherwise."""
    return day.strftime("%d/%m") if day.year == this_year else day.strftime("%d/%m/%Y")


def full_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days joined: 12, 13, 14, 20 → (12, 14), (20, 20)."""
    found: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if found and day - found[-1][1] == timedelta(days=1):
            found[-1] = (found[-1][0], day)
        else:
            found.append((day, day))
    return found


def days_text(days: Iterable[date], this_year: int) -> str:
    """Days as a phone reads them: "12/11–16/11, 20/11"."""
    parts = []
    for first, last in runs(days):
        one = day_text(first, this_year)
        parts.append(one if first == last else f"{one}–{day_text(last, this_year)}")
    return ", ".join(parts)


def parse_problem(ctx: Context, parsed: DaysParse, max_span: int) -> str:
    """What is wrong with the typed days, in the cadre's words and with the days named."""
    year = today(ctx).year
    bad = parsed.bad_days
    params: dict[str, object] = {"text": parsed.text}
    if parsed.problem == DaysProblem.FUTURE:
        params["days"] = days_text(bad, year)
    elif parsed.problem in (DaysProblem.RANGE_BACKWARDS, DaysProblem.TOO_LONG) and bad:
        params.update(first=day_text(bad[0], year), last=day_text(bad[-1], year))
        if parsed.problem == DaysProblem.TOO_LONG:
            params.update(n=(bad[-1] - bad[0]).days + 1, max=max_span)
    assert parsed.problem is not None
    return ctx.t(PROBLEM_KEYS[parsed.problem], **params)


def late_days(days: Iterable[date], on: date, rules: FieldVisitRules) -> list[date]:
    """Days logged more than ``late_entry_days`` after they happened: they need approval."""
    return sorted(day for day in days if needs_approval_late(day, on, rules))


async def year_total(ctx: Context, cadre: Cadre) -> int:
    """Distinct counted days in the counting year that contains today."""
    first, last = counting_window(cadre.rules, today(ctx))
    return len(await ctx.uow.visits.counted_days(cadre.person_id, first, last))


async def tally(ctx: Context, cadre: Cadre) -> str:
    """ "Năm nay: 27/60 ngày." """
    total = await year_total(ctx, cadre)
    return ctx.t("visit.year_total", days=total, target=cadre.rules.target_days)


# --- finding the unit visited --------------------------------------------------------


async def search_scope(uow: UnitOfWork, unit: Unit) -> Unit:
    """The province (or city) the cadre works for: its units are the ones visited."""
    chain = [*await uow.units.ancestors(unit), unit]
    for candidate in reversed(chain):
        if candidate.kind in PROVINCE_KINDS:
            return candidate
    return chain[0]


async def find_units(uow: UnitOfWork, cadre: Cadre, query: str) -> list[Unit]:
    """Units of the cadre's province whose folded name holds every typed word."""
    words = fold(query).split()
    scope = await search_scope(uow, cadre.unit)
    found = [u for u in await uow.units.subtree(scope) if all(w in fold(u.name) for w in words)]
    # A name that starts with the words, then shorter names: the likely one comes first.
    return sorted(found, key=lambda u: (not fold(u.name).startswith(" ".join(words)), u.depth))


def unit_choices(units: Sequence[Unit]) -> list[tuple[str, str]]:
    return [(f"u{u.id}", u.name) for u in units]


async def unit_answer(
    ctx: Context, cadre: Cadre, key: str | None, text: str | None
) -> tuple[Unit | None, list[Unit]]:
    """The unit a cadre picked or typed, or the matches to show when it is not yet clear.

    A picked button (``u<id>``) or a single match gives the unit; several matches give
    the list to pick from; nothing found gives neither (the caller says so).
    """
    if key and key.startswith("u") and key[1:].isdigit():
        unit = await ctx.uow.units.get(int(key[1:]))
        scope = await search_scope(ctx.uow, cadre.unit)
        if unit is not None and unit.path.startswith(scope.path):
            return unit, []
        return None, []
    found = await find_units(ctx.uow, cadre, text or "")
    if len(found) == 1:
        return found[0], []
    return None, found
