"""A cadre registers or changes a quarter's visit plan (đăng ký đi cơ sở hàng quý).

"/kehoach" shows the quarter's plan against the days counted so far, then asks for
the planned days, the planned thematic trips and a short note, shows the plan once
more and sends it to the standing committee (``plan_review``). In the last weeks of
a quarter the cadre may plan the coming one instead. A returned plan is changed the
same way and sent again; so is an approved one, which then waits for approval anew.
The draft lives in the conversation row: nothing is stored until "Gửi".
"""

from __future__ import annotations

import re

from bot.i18n import N_
from bot.matching import fold, parse_number
from handlers.base import Answer, Context, Flow, action, command
from handlers.fieldvisits.plan_review import tell_committee
from handlers.fieldvisits.status import (
    COMMITTEE_ROLES,
    event_tag,
    exemption_text,
    following_quarter,
    local_today,
    on_register,
    period,
    plan_text,
    quarter_actuals,
    quarter_of,
    quarter_window,
)
from storage.models import Role

plan_flow = Flow("fplan")
CHOOSE_NEXT_DAYS = 15  # from two weeks before a quarter ends, the coming one may be planned
TRIPS_MAX = 4  # two are required a year; more than four in a quarter is a typing slip
NOTE_MAX = 300
_COUNT = re.compile(r"(\d{1,3})(?: (?:ngay|dot|chuyen de|dot chuyen de))?")


@command(
    "kehoach",
    N_("fplan.cmd_plan"),
    roles={Role.CADRE, *COMMITTEE_ROLES},
    aliases=("ke hoach di co so", "ke hoach", "dang ky di co so"),
    menu=True,
    order=46,
)
async def plan_command(ctx: Context, _: str) -> None:
    await open_plans(ctx)


@action("plan")
async def plan_button(ctx: Context, args: list[str]) -> None:
    """ "✏️ Đăng ký kế hoạch" on the quarter's request or on a returned plan."""
    ctx.answer_button()
    await open_plans(ctx)


async def open_plans(ctx: Context) -> None:
    ctx.finish()
    me = await on_register(ctx)
    if me is None:
        return
    if me.exemption is not None:
        exemption = exemption_text(ctx.t, me.exemption, ctx.settings.tz)
        ctx.say(ctx.t("fplan.plan_exempt", exemption=exemption))
        return
    year, quarter = quarter_of(me.today)
    if (quarter_window(year, quarter)[1] - me.today).days < CHOOSE_NEXT_DAYS:
        coming = following_quarter(year, quarter)
        ctx.ask(
            plan_flow("quarter"),
            ctx.t("fplan.which_quarter"),
            [
                (f"{y}-{q}", ctx.t("fplan.quarter_label", quarter=q, year=y))
                for y, q in ((year, quarter), coming)
            ],
        )
        return
    await _show(ctx, year, quarter)


def _allowed_quarters(ctx: Context) -> set[tuple[int, int]]:
    today = local_today(ctx.now, ctx.settings.tz)
    current = quarter_of(today)
    return {current, following_quarter(*current)}


@plan_flow.step("quarter")
async def quarter_step(ctx: Context, answer: Answer) -> None:
    year, _, quarter = (answer.key or "").partition("-")
    picked = (int(year), int(quarter)) if year.isdigit() and quarter.isdigit() else None
    if picked is None or picked not in _allowed_quarters(ctx):
        ctx.repeat_question()
        return
    await _show(ctx, *picked)


async def _show(ctx: Context, year: int, quarter: int) -> None:
    """The quarter's plan (if any) against what was done; then change it or keep it."""
    assert ctx.person is not None and ctx.person.id is not None
    pid = ctx.person.id
    plan = (await ctx.uow.plans.plans([pid], year, quarter)).get(pid)
    today = local_today(ctx.now, ctx.settings.tz)
    actual = (await quarter_actuals(ctx.uow, [pid], year, quarter, today))[pid]
    summary = plan_text(ctx.t, year, quarter, plan, actual)
    data = {"year": year, "quarter": quarter}
    if plan is None:
        ctx.say(summary)
        _ask_days(ctx, year, quarter, data)
        return
    ctx.ask(
        plan_flow("change"),
        ctx.t("fplan.change_or_keep", summary=summary),
        [("change", ctx.t("fplan.change")), ("keep", ctx.t("fplan.keep"))],
        data=data,
    )


@plan_flow.step("change")
async def change_step(ctx: Context, answer: Answer) -> None:
    if answer.key != "change":
        ctx.finish()
        ctx.say(ctx.t("fplan.kept"))
        return
    _ask_days(ctx, int(ctx.data["year"]), int(ctx.data["quarter"]), {})


def _quarter_days(year: int, quarter: int) -> int:
    first, last = quarter_window(year, quarter)
    return (last - first).days + 1


def _ask_days(ctx: Context, year: int, quarter: int, data: dict[str, int]) -> None:
    first, last = quarter_window(year, quarter)
    ctx.ask(
        plan_flow("days"),
        ctx.t(
            "fplan.ask_days",
            quarter=quarter,
            year=year,
            period=period(ctx.t, first, last, ctx.settings.tz),
            max=_quarter_days(year, quarter),
        ),
        data=data,
    )


def _count(text: str) -> int | None:
    """ "12", "mười hai", "12 ngày", "1 đợt": a small count, or None."""
    number = parse_number(text)
    if number is not None:
        return number
    match = _COUNT.fullmatch(fold(text))
    return int(match.group(1)) if match else None


@plan_flow.step("days", text=True)
async def days_step(ctx: Context, answer: Answer) -> None:
    most = _quarter_days(int(ctx.data["year"]), int(ctx.data["quarter"]))
    days = _count(answer.text or "")
    if days is None or not 1 <= days <= most:
        ctx.say(ctx.t("fplan.days_refused", max=most))
        ctx.repeat_question()
        return
    ctx.ask(plan_flow("trips"), ctx.t("fplan.ask_trips", max=TRIPS_MAX), data={"days": days})


@plan_flow.step("trips", text=True)
async def trips_step(ctx: Context, answer: Answer) -> None:
    trips = _count(answer.text or "")
    if trips is None or not 0 <= trips <= TRIPS_MAX:
        ctx.say(ctx.t("fplan.trips_refused", max=TRIPS_MAX))
        ctx.repeat_question()
        return
    ctx.ask(
        plan_flow("note"),
        ctx.t("fplan.ask_note", max=NOTE_MAX),
        [("skip", ctx.t("fplan.no_note"))],
        data={"trips": trips},
    )


@plan_flow.step("note", text=True)
async def note_step(ctx: Context, answer: Answer) -> None:
    note = "" if answer.key == "skip" else " ".join((answer.text or "").split())
    if len(note) > NOTE_MAX:
        ctx.say(ctx.t("fplan.note_too_long", max=NOTE_MAX, length=len(note)))
        ctx.repeat_question()
        return
    data = ctx.data
    ctx.ask(
        plan_flow("confirm"),
        ctx.t(
            "fplan.preview",
            quarter=data["quarter"],
            year=data["year"],
            days=data["days"],
            trips=data["trips"],
            note=note or "-",
        ),
        [("send", ctx.t("fplan.send")), ("cancel", ctx.t("fplan.cancel"))],
        data={"note": note},
    )


@plan_flow.step("confirm")
async def confirm_step(ctx: Context, answer: Answer) -> None:
    data = dict(ctx.data)
    ctx.finish()
    if answer.key != "send":
        ctx.say(ctx.t("fplan.cancelled"))
        return
    year, quarter = int(data["year"]), int(data["quarter"])
    me = await on_register(ctx)
    if me is None:
        return
    if me.exemption is not None or (year, quarter) not in _allowed_quarters(ctx):
        ctx.say(ctx.t("fplan.draft_stale"))  # exempted, or the quarter went by, meanwhile
        return
    assert ctx.person is not None and ctx.person.id is not None
    plan = await ctx.uow.plans.submit(
        ctx.person.id,
        year,
        quarter,
        days=int(data["days"]),
        trips=int(data["trips"]),
        note=str(data.get("note") or "") or None,
    )
    ctx.audit(
        "fieldplan.submitted",
        "visit_plan",
        plan.id,
        year=year,
        quarter=quarter,
        days=plan.planned_days,
        trips=plan.planned_trips,
    )
    told = await tell_committee(
        ctx.uow, plan, ctx.person, me.unit, ctx.settings, ctx.now, tag=event_tag(ctx)
    )
    key = N_("fplan.submitted") if told else N_("fplan.submitted_nobody")
    ctx.say(ctx.t(key, quarter=quarter, year=year))
