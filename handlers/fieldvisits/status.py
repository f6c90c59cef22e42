"""A cadre's "1+2" standing, and who decides for them: shared by /canbo12, /kehoach, /songay.

Days are the cadre's distinct COUNTED days (``uow.visits``); a thematic trip adds no
days of its own (its days count as the entries logged for it, as in the committee
report) but counts as a trip once it has ended. Plans follow calendar quarters: the
committee approves them "at the start of the quarter" whatever the counting year.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.formatting import format_date
from bot.i18n import N_, Translator
from handlers.base import Context
from handlers.fieldvisits.rules import rules_for
from scheduler.field_visits import (
    Exemption,
    ExemptionReason,
    FieldVisitRules,
    Pace,
    Trip,
    TripsVerdict,
    Window,
    check_trips,
    count_days,
    counting_window,
    exempt_on,
    pace,
)
from storage.models import (
    FieldCadre,
    Person,
    PlanStatus,
    Role,
    ThematicTrip,
    Unit,
    VisitExemption,
    VisitPlan,
)
from storage.uow import UnitOfWork

#: Those who mark cadres, record exemptions and approve plans.
COMMITTEE_ROLES = frozenset({Role.STANDING, Role.ADMIN})
REASON_LABELS = {
    ExemptionReason.ACCOUNTING_OR_CLERICAL: N_("fplan.reason_clerical"),
    ExemptionReason.LONG_SERVICE: N_("fplan.reason_long_service"),
    ExemptionReason.SERIOUS_ILLNESS: N_("fplan.reason_illness"),
    ExemptionReason.PARTY_WORK: N_("fplan.reason_party_work"),
    ExemptionReason.OTHER: N_("fplan.reason_other"),
}
PLAN_STATUS_LABELS = {
    PlanStatus.SUBMITTED: N_("fplan.status_submitted"),
    PlanStatus.APPROVED: N_("fplan.status_approved"),
    PlanStatus.RETURNED: N_("fplan.status_returned"),
}


# --- calendar ------------------------------------------------------------------------


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_window(year: int, quarter: int) -> Window:
    first = date(year, 3 * quarter - 2, 1)
    following = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, following - timedelta(days=1)


def following_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


# --- rows to rules -------------------------------------------------------------------


def as_exemption(row: VisitExemption) -> Exemption:
    return Exemption(ExemptionReason(row.reason), row.starts_on, row.ends_on)


def exemption_on(rows: Iterable[VisitExemption], on: date) -> VisitExemption | None:
    """The recorded exemption in force on ``on`` (the row, for its note), or None."""
    pairs = [(as_exemption(row), row) for row in rows]
    found = exempt_on([exemption for exemption, _ in pairs], on)
    return next((row for exemption, row in pairs if exemption is found), None)


def ended_trips(rows: Iterable[ThematicTrip], on: date) -> list[Trip]:
    """Trips finished by ``on``: only those can count."""
    return [
        Trip(row.starts_on, row.ends_on)
        for row in rows
        if row.ends_on is not None and row.ends_on <= on
    ]


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a cadre stands in the counting year, as of ``today``."""

    rules: FieldVisitRules
    window: Window
    pace: Pace
    trips: TripsVerdict


async def standing(
    uow: UnitOfWork, person_id: int, rules: FieldVisitRules, today: date
) -> Standing:
    """Days so far this counting year (to ``today``, included), pace and trips done."""
    window = counting_window(rules, today)
    days = await uow.visits.counted_days(person_id, window[0], today)
    counted = count_days(days, (window[0], today))
    trips = (await uow.visits.trips_of([person_id], window[0], window[1])).get(person_id, [])
    verdict = check_trips(ended_trips(trips, today), rules, window)
    return Standing(rules, window, pace(counted, rules, window, today), verdict)


@dataclass(frozen=True, slots=True)
class Actual:
    """What a cadre has done in a quarter so far: counted days, trips ended."""

    days: int
    trips: int


async def quarter_actuals(
    uow: UnitOfWork, person_ids: Sequence[int], year: int, quarter: int, today: date
) -> dict[int, Actual]:
    """Plan-versus-actual figures for many cadres in two queries."""
    first, last = quarter_window(year, quarter)
    last = min(last, today)
    if last < first:
        return {pid: Actual(0, 0) for pid in person_ids}
    days = await uow.visits.days_by_person(list(person_ids), first, last)
    trips = await uow.visits.trips_of(list(person_ids), first, last)
    return {
        pid: Actual(
            count_days(days.get(pid, []), (first, last)), len(ended_trips(trips.get(pid, []), last))
        )
        for pid in person_ids
    }


# --- who decides ---------------------------------------------------------------------


async def committee_units(uow: UnitOfWork, person_id: int) -> list[Unit]:
    """Units where this person sits on the standing committee (or administers)."""
    seen: dict[int, Unit] = {}
    for membership, unit in await uow.people.memberships(person_id):
        if membership.role in COMMITTEE_ROLES and unit.id is not None:
            seen[unit.id] = unit
    return list(seen.values())


async def decides_for(uow: UnitOfWork, person_id: int, unit: Unit) -> bool:
    """Whether ``person_id`` is on the standing committee of ``unit`` or a unit above it."""
    return any(unit.path.startswith(mine.path) for mine in await committee_units(uow, person_id))


async def committee_of(uow: UnitOfWork, unit: Unit) -> list[Person]:
    """The standing committee nearest above (or at) ``unit``: usually the province's.

    The nearest one, not every one up to the root, so a national administrator is
    not asked about every province's plans.
    """
    chain = [unit, *reversed(await uow.units.ancestors(unit))]
    members = await uow.plans.committee([u.id for u in chain if u.id is not None])
    return next((members[u.id] for u in chain if u.id in members), [])


def event_tag(ctx: Context) -> str:
    """Names the event a notice comes from, for its dedupe key.

    The inbox already handles each event once; the key only has to tell two decisions
    apart (a plan resubmitted, returned again), which a timestamp cannot.
    """
    return f"{ctx.incoming.channel}-{ctx.incoming.update_key}"


@dataclass(frozen=True, slots=True)
class OnRegister:
    """The person talking, as a cadre on the "1+2" register."""

    cadre: FieldCadre
    unit: Unit
    rules: FieldVisitRules
    today: date
    exemption: VisitExemption | None  # in force today


async def on_register(ctx: Context) -> OnRegister | None:
    """The talking cadre's register entry, or None after telling them they are not on it."""
    assert ctx.person is not None and ctx.person.id is not None
    cadre = await ctx.uow.plans.cadre(ctx.person.id)
    unit = await ctx.uow.units.get(cadre.unit_id) if cadre is not None else None
    if cadre is None or not cadre.active or unit is None:
        ctx.finish()
        ctx.say(ctx.t("fplan.not_on_register"))
        return None
    today = local_today(ctx.now, ctx.settings.tz)
    exemptions = (await ctx.uow.plans.exemptions([ctx.person.id])).get(ctx.person.id, [])
    rules = await rules_for(ctx.uow, unit)
    return OnRegister(cadre, unit, rules, today, exemption_on(exemptions, today))


# --- words ---------------------------------------------------------------------------


def period(t: Translator, first: date, last: date | None, tz: ZoneInfo) -> str:
    if last is None:
        return t("fplan.period_open", first=format_date(first, tz))
    return t("fplan.period", first=format_date(first, tz), last=format_date(last, tz))


def exemption_text(t: Translator, row: VisitExemption, tz: ZoneInfo) -> str:
    """ "kế toán, văn thư, thủ quỹ (từ 01/01/2026, không thời hạn)"."""
    reason = t(REASON_LABELS[ExemptionReason(row.reason)])
    if row.note:
        reason = f"{reason}: {row.note}"
    return t("fplan.exemption", reason=reason, period=period(t, row.starts_on, row.ends_on, tz))


def plan_text(
    t: Translator, year: int, quarter: int, plan: VisitPlan | None, actual: Actual
) -> str:
    """A quarter's plan against what was done: both the cadre and the committee see this."""
    if plan is None:
        return t("fplan.quarter_no_plan", quarter=quarter, year=year, days=actual.days)
    text = t(
        "fplan.quarter_plan",
        quarter=quarter,
        year=year,
        planned=plan.planned_days,
        planned_trips=plan.planned_trips,
        days=actual.days,
        trips=actual.trips,
        status=t(PLAN_STATUS_LABELS[PlanStatus(plan.status)]),
    )
    if plan.status == PlanStatus.RETURNED and plan.reason:
        text += "\n" + t("fplan.returned_because", reason=plan.reason)
    return text
