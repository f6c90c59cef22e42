"""Thematic trips (đợt chuyên đề): ``/dotchuyende`` starts one; under way, ends or drops it.

Starting asks the theme, the unit and the first day (today or a past day); nothing
counts until the trip ends (``handlers.fieldvisits.trip_end``), when its days are
recorded and its report falls due. One trip is under way at a time, and a new one
may not start on or before the last day of an earlier one.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.i18n import N_
from handlers.base import Answer, Context, Flow, command
from handlers.fieldvisits.asking import ask_unit, picked_unit
from handlers.fieldvisits.common import (
    Cadre,
    full_date,
    parse_problem,
    require_cadre,
    today,
)
from scheduler.visit_days import MAX_SPAN_DAYS, parse_visit_days
from storage.models import Role, ThematicTrip

trip_flow = Flow("trip")
THEME_MAX = 255  # ThematicTrip.theme


@command(
    "dotchuyende",
    N_("visit.cmd_trip"),
    aliases=("dot chuyen de",),
    order=41,
    shown_to=(Role.CADRE,),
)
async def trip_command(ctx: Context, _: str) -> None:
    cadre = await require_cadre(ctx, command=True)
    if cadre is None:
        return
    ctx.finish()
    trip = await ctx.uow.visits.open_trip(cadre.person_id)
    if trip is None:
        ctx.ask(trip_flow("theme"), ctx.t("visit.trip_ask_theme", max=THEME_MAX))
        return
    ctx.ask(
        trip_flow("open"),
        ctx.t(
            "visit.trip_under_way",
            theme=trip.theme,
            start=full_date(trip.starts_on),
            n=(today(ctx) - trip.starts_on).days + 1,
        ),
        [
            ("end", ctx.t("visit.trip_end")),
            ("drop", ctx.t("visit.trip_drop")),
            ("close", ctx.t("common.close")),
        ],
        data={"trip": trip.id},
    )


# --- starting ------------------------------------------------------------------------


@trip_flow.step("theme", text=True)
async def theme_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    theme = " ".join((answer.text or "").split())
    if cadre is None:
        return
    if not theme or len(theme) > THEME_MAX:
        if theme:
            ctx.say(ctx.t("visit.too_long", max=THEME_MAX, length=len(theme)))
        ctx.repeat_question()
        return
    await ask_unit(ctx, trip_flow("unit"), cadre, {"theme": theme})


@trip_flow.step("unit", text=True)
async def unit_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    unit = await picked_unit(ctx, cadre, answer, trip_flow("unit")) if cadre else None
    if unit is None:
        return
    ctx.ask(
        trip_flow("start"),
        ctx.t("visit.trip_ask_start"),
        [("today", ctx.t("visit.trip_today"))],
        data={"unit": unit.id, "unit_name": unit.name},
    )


def one_day(ctx: Context, answer: Answer) -> date | None:
    """A single past day ("hôm nay", "12/11"); None after saying what is wrong."""
    if answer.key == "today":
        return today(ctx)
    if answer.key == "yesterday":
        return today(ctx) - timedelta(days=1)
    parsed = parse_visit_days(answer.text or "", today(ctx))
    if not parsed.ok:
        ctx.say(parse_problem(ctx, parsed, MAX_SPAN_DAYS))
    elif len(parsed.days) != 1:
        ctx.say(ctx.t("visit.trip_one_day"))
    else:
        return parsed.days[0]
    ctx.repeat_question()
    return None


@trip_flow.step("start", text=True)
async def start_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    start = one_day(ctx, answer) if cadre else None
    if cadre is None or start is None:
        return
    earlier = await ctx.uow.visits.trips_of([cadre.person_id], start - timedelta(days=366), start)
    clash = [t for t in earlier.get(cadre.person_id, []) if t.ends_on and t.ends_on >= start]
    if clash:
        ctx.say(ctx.t("visit.trip_overlaps", end=full_date(max(t.ends_on or start for t in clash))))
        ctx.repeat_question()
        return
    ctx.ask(
        trip_flow("begin"),
        ctx.t(
            "visit.trip_confirm_start",
            theme=ctx.data["theme"],
            unit=ctx.data["unit_name"],
            start=full_date(start),
        ),
        [("go", ctx.t("visit.trip_begin")), ("cancel", ctx.t("visit.cancel"))],
        data={"start": start.isoformat()},
    )


@trip_flow.step("begin")
async def begin_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    data = dict(ctx.data)
    ctx.finish()
    if cadre is None:
        return
    if answer.key != "go":
        ctx.say(ctx.t("visit.cancelled"))
        return
    if await ctx.uow.visits.open_trip(cadre.person_id) is not None:
        ctx.say(ctx.t("visit.trip_already_open"))  # started meanwhile on the other channel
        return
    trip = await ctx.uow.visits.add_trip(
        ThematicTrip(
            person_id=cadre.person_id,
            unit_id=int(data["unit"]),
            theme=data["theme"],
            place=data.get("unit_name"),
            starts_on=date.fromisoformat(data["start"]),
            created_at=ctx.now,
        )
    )
    ctx.audit("visit.trip_started", "thematic_trip", trip.id, starts_on=data["start"])
    rules = cadre.rules
    ctx.say(
        ctx.t(
            "visit.trip_started",
            theme=trip.theme,
            start=full_date(trip.starts_on),
            low=rules.trip_min_days,
            high=rules.trip_max_days,
        )
    )


# --- under way: end it, or drop it -----------------------------------------------------


async def current_trip(ctx: Context, cadre: Cadre) -> ThematicTrip | None:
    """The open trip the conversation is about; None (said so) if it ended meanwhile."""
    trip = await ctx.uow.visits.trip(int(ctx.data.get("trip") or 0))
    if trip is None or trip.person_id != cadre.person_id or trip.ends_on is not None:
        ctx.finish()
        ctx.say(ctx.t("visit.trip_not_open"))
        return None
    return trip


@trip_flow.step("open")
async def open_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    trip = await current_trip(ctx, cadre) if cadre else None
    if trip is None:
        return
    if answer.key == "end":
        choices = [
            ("today", ctx.t("visit.trip_today")),
            ("yesterday", ctx.t("visit.trip_yesterday")),
        ]
        ctx.ask(trip_flow("end"), ctx.t("visit.trip_ask_end"), choices)
    elif answer.key == "drop":
        choices = [("drop", ctx.t("visit.trip_drop_yes")), ("keep", ctx.t("visit.trip_drop_no"))]
        ctx.ask(trip_flow("drop"), ctx.t("visit.trip_ask_drop", theme=trip.theme), choices)
    else:
        ctx.finish()


@trip_flow.step("drop")
async def drop_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    trip = await current_trip(ctx, cadre) if cadre else None
    if trip is None:
        return
    ctx.finish()
    if answer.key != "drop":
        ctx.say(ctx.t("visit.trip_kept"))
        return
    ctx.audit("visit.trip_dropped", "thematic_trip", trip.id, theme=trip.theme)
    await ctx.uow.session.delete(trip)  # nothing was counted for a trip under way
    ctx.say(ctx.t("visit.trip_dropped", theme=trip.theme))
