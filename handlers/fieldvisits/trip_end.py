"""Ending a thematic trip: the last day, the checks, and its days recorded as a TRIP entry.

A trip outside the province's rules (5–7 days, not back-to-back with another) is
still ended and its days still count as field days; the cadre is told it does not
count as a thematic trip. Rules are applied again whenever trips are counted
(``check_trips``), so the row needs no flag.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.i18n import N_
from handlers.base import Answer, Context
from handlers.fieldvisits.approve import request_approval
from handlers.fieldvisits.common import (
    Cadre,
    days_text,
    full_date,
    late_days,
    require_cadre,
    tally,
    today,
)
from handlers.fieldvisits.trips import current_trip, one_day, trip_flow
from scheduler.field_visits import Trip, TripProblem, check_trip, gap_days, report_due
from storage.models import FieldVisit, ThematicTrip, VisitKind, VisitStatus

SHAPE_KEYS = {
    TripProblem.TOO_SHORT: N_("visit.trip_too_short"),
    TripProblem.TOO_LONG: N_("visit.trip_too_long"),
}


@trip_flow.step("end", text=True)
async def end_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    trip = await current_trip(ctx, cadre) if cadre else None
    end = one_day(ctx, answer) if trip else None
    if cadre is None or trip is None or end is None:
        return
    shape = Trip(trip.starts_on, end)
    problems = check_trip(shape, cadre.rules, today(ctx))
    if TripProblem.ENDS_BEFORE_START in problems:
        ctx.say(ctx.t("visit.trip_end_before_start", start=full_date(trip.starts_on)))
        ctx.repeat_question()
        return
    text = ctx.t(
        "visit.trip_confirm_end",
        theme=trip.theme,
        days=days_text(shape.days(), today(ctx).year),
        n=shape.length,
    )
    text += "".join("\n\n" + note for note in await _warnings(ctx, cadre, trip, shape))
    choices = [
        ("finish", ctx.t("visit.trip_finish")),
        ("redo", ctx.t("visit.trip_redo")),
        ("cancel", ctx.t("visit.cancel")),
    ]
    ctx.ask(trip_flow("finish"), text, choices, data={"end": end.isoformat()})


async def _warnings(ctx: Context, cadre: Cadre, trip: ThematicTrip, shape: Trip) -> list[str]:
    """Why this trip will not count as a thematic trip, if it will not."""
    rules = cadre.rules
    notes = [
        ctx.t(SHAPE_KEYS[p], n=shape.length, low=rules.trip_min_days, high=rules.trip_max_days)
        for p in check_trip(shape, rules, today(ctx))
        if p in SHAPE_KEYS
    ]
    window = (shape.start - timedelta(days=366), shape.end + timedelta(days=1))
    others = (await ctx.uow.visits.trips_of([cadre.person_id], *window)).get(cadre.person_id, [])
    for other in others:
        if other.id == trip.id or other.ends_on is None:
            continue
        if gap_days(shape, Trip(other.starts_on, other.ends_on)) < rules.trip_min_gap_days:
            days = days_text(Trip(other.starts_on, other.ends_on).days(), today(ctx).year)
            notes.append(ctx.t("visit.trip_back_to_back", other=days))
    return notes


@trip_flow.step("finish")
async def finish_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    trip = await current_trip(ctx, cadre) if cadre else None
    if cadre is None or trip is None:
        return
    if answer.key == "redo":
        choices = [
            ("today", ctx.t("visit.trip_today")),
            ("yesterday", ctx.t("visit.trip_yesterday")),
        ]
        ctx.ask(trip_flow("end"), ctx.t("visit.trip_ask_end"), choices)
        return
    end = date.fromisoformat(ctx.data["end"])
    ctx.finish()
    if answer.key != "finish":
        ctx.say(ctx.t("visit.trip_still_open"))
        return
    await _record_end(ctx, cadre, trip, end)


async def _record_end(ctx: Context, cadre: Cadre, trip: ThematicTrip, end: date) -> None:
    """The trip ends; its days not logged yet become a TRIP entry."""
    shape = Trip(trip.starts_on, end)
    trip.ends_on = end
    ctx.uow.session.add(trip)
    days = list(shape.days())
    already = await ctx.uow.visits.logged_on(cadre.person_id, days)
    fresh = [day for day in days if day not in already]
    lines = [
        ctx.t("visit.trip_ended", theme=trip.theme, days=days_text(days, end.year), n=len(days))
    ]
    lines += await _warnings(ctx, cadre, trip, shape)
    if fresh:
        late = late_days(fresh, today(ctx), cadre.rules)
        visit = FieldVisit(
            person_id=cadre.person_id,
            unit_id=trip.unit_id,
            kind=VisitKind.TRIP,
            note=trip.theme[:500],
            trip_id=trip.id,
            status=VisitStatus.PENDING if late else VisitStatus.COUNTED,
            first_day=trip.starts_on,
            last_day=end,
            logged_by_person_id=cadre.person_id,
            logged_at=ctx.now,
        )
        await ctx.uow.visits.add(visit, fresh)
        if late:
            lines.append(ctx.t("visit.trip_days_pending", n=len(fresh)))
            if not await request_approval(ctx, cadre, visit, fresh):
                lines.append(ctx.t("visit.no_approver"))
        else:
            lines.append(ctx.t("visit.trip_days_logged", n=len(fresh)))
    if already:
        lines.append(ctx.t("visit.trip_days_already", days=days_text(already, end.year)))
    ctx.audit(
        "visit.trip_ended", "thematic_trip", trip.id, ends_on=end.isoformat(), days=len(fresh)
    )
    lines.append(await tally(ctx, cadre))
    lines.append(ctx.t("visit.trip_report_due", due=full_date(report_due(shape, cadre.rules))))
    ctx.say("\n".join(lines))
