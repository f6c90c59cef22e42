"""``/baocaodot``: the cadre files the report of a finished thematic trip.

The report is due ``report_due_days`` after the trip ends; one filed late is kept
(and said to be late): the inspection committee rates timeliness.
"""

from __future__ import annotations

from bot.i18n import N_
from handlers.base import Answer, Context, Flow, command
from handlers.fieldvisits.common import (
    Cadre,
    days_text,
    full_date,
    require_cadre,
    today,
)
from scheduler.field_visits import Trip, report_due
from storage.models import Role, ThematicTrip

report_flow = Flow("tripreport")
REPORT_MAX = 4000  # ThematicTrip.report


def _shape(trip: ThematicTrip) -> Trip:
    assert trip.ends_on is not None
    return Trip(trip.starts_on, trip.ends_on)


def _label(ctx: Context, trip: ThematicTrip) -> str:
    return ctx.t(
        "visit.trip_report_line",
        theme=trip.theme,
        days=days_text(_shape(trip).days(), today(ctx).year),
    )


@command(
    "baocaodot",
    N_("visit.cmd_trip_report"),
    aliases=("bao cao dot",),
    order=42,
    shown_to=(Role.CADRE,),
)
async def report_command(ctx: Context, _: str) -> None:
    cadre = await require_cadre(ctx, command=True)
    if cadre is None:
        return
    ctx.finish()
    waiting = await ctx.uow.visits.trips_awaiting_report(person_ids=[cadre.person_id])
    if not waiting:
        ctx.say(ctx.t("visit.trip_no_report_due"))
    elif len(waiting) == 1:
        _ask_text(ctx, cadre, waiting[0])
    else:
        ctx.ask(
            report_flow("pick"),
            ctx.t("visit.trip_which_report"),
            [(str(t.id), _label(ctx, t)) for t in waiting],
        )


def _ask_text(ctx: Context, cadre: Cadre, trip: ThematicTrip) -> None:
    ctx.ask(
        report_flow("text"),
        ctx.t(
            "visit.trip_ask_report",
            trip=_label(ctx, trip),
            due=full_date(report_due(_shape(trip), cadre.rules)),
            max=REPORT_MAX,
        ),
        data={"trip": trip.id},
    )


async def _trip(ctx: Context, cadre: Cadre, key: object) -> ThematicTrip | None:
    """The finished, unreported trip of this cadre named by ``key``; None (said so) if not."""
    trip = await ctx.uow.visits.trip(int(str(key))) if str(key).isdigit() else None
    if (
        trip is None
        or trip.person_id != cadre.person_id
        or trip.ends_on is None
        or trip.report_filed_at is not None
    ):
        ctx.finish()
        ctx.say(ctx.t("visit.trip_no_report_due"))
        return None
    return trip


@report_flow.step("pick")
async def pick_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    trip = await _trip(ctx, cadre, answer.key) if cadre else None
    if cadre is not None and trip is not None:
        _ask_text(ctx, cadre, trip)


@report_flow.step("text", text=True)
async def text_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    trip = await _trip(ctx, cadre, ctx.data.get("trip")) if cadre else None
    if cadre is None or trip is None:
        return
    report = (answer.text or "").strip()
    if not report:
        ctx.repeat_question()
        return
    if len(report) > REPORT_MAX:
        ctx.say(ctx.t("visit.too_long", max=REPORT_MAX, length=len(report)))
        ctx.repeat_question()
        return
    ctx.finish()
    trip.report, trip.report_filed_at = report, ctx.now
    ctx.uow.session.add(trip)
    due = report_due(_shape(trip), cadre.rules)
    late = (today(ctx) - due).days
    ctx.audit("visit.trip_report_filed", "thematic_trip", trip.id, late_days=max(0, late))
    timing = (
        ctx.t("visit.trip_report_late", due=full_date(due), n=late)
        if late > 0
        else ctx.t("visit.trip_report_on_time", due=full_date(due))
    )
    ctx.say(ctx.t("visit.trip_report_filed", theme=trip.theme) + "\n" + timing)
