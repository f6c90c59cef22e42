"""The standing committee's "1+2" desk: who must go to the grassroots, who is exempt.

"/canbo12" lists the cadres under the member's units: subject (days this year, the
quarter's plan against the days done), exempt (why, and for how long) or not on the
register yet. From there the member puts a cadre on the register, records or ends
an exemption (``exemptions``), or decides on the plans waiting (``plan_review``).
Every change is audited and the cadre is told.
"""

from __future__ import annotations

from datetime import timedelta

from bot.formatting import format_date
from bot.i18n import N_
from handlers.base import Answer, Context, Flow, command
from handlers.fieldvisits.exemptions import start_exemption
from handlers.fieldvisits.plan_pending import pending_for, show_pending
from handlers.fieldvisits.roster import Listed, roster, year_days
from handlers.fieldvisits.status import (
    COMMITTEE_ROLES,
    event_tag,
    exemption_text,
    local_today,
    plan_text,
    quarter_actuals,
    quarter_of,
)
from handlers.notify import notify
from scheduler.notices import send_time

duty = Flow("fduty")
LIST_LIMIT = 40  # a phone screen's worth; the committee report has everyone
PICK_LIMIT = 30


@command(
    "canbo12",
    N_("fplan.cmd_duty"),
    roles=COMMITTEE_ROLES,
    aliases=("can bo 1+2", "can bo 1 2", "can bo 12", "canbo12"),
    menu=True,
    order=47,
)
async def duty_command(ctx: Context, _: str) -> None:
    ctx.finish()
    listed = await roster(ctx)
    if not listed:
        ctx.say(ctx.t("fplan.no_cadres"))
        return
    today = local_today(ctx.now, ctx.settings.tz)
    year, quarter = quarter_of(today)
    subject = [c for c in listed if c.subject]
    ids = [c.person_id for c in subject]
    days = await year_days(ctx, subject, today)
    plans = await ctx.uow.plans.plans(ids, year, quarter)
    actuals = await quarter_actuals(ctx.uow, ids, year, quarter, today)
    lines = []
    for cadre in listed[:LIST_LIMIT]:
        name, unit = cadre.person.full_name or "-", cadre.unit.name
        if cadre.exemption is not None:
            status = exemption_text(ctx.t, cadre.exemption, ctx.settings.tz)
            lines.append(ctx.t("fplan.line_exempt", name=name, unit=unit, exemption=status))
        elif cadre.on_register:
            pid = cadre.person_id
            lines.append(
                ctx.t(
                    "fplan.line_subject",
                    name=name,
                    unit=unit,
                    days=days.get(pid, 0),
                    target=cadre.rules.target_days,
                    plan=plan_text(ctx.t, year, quarter, plans.get(pid), actuals[pid]),
                )
            )
        else:
            lines.append(ctx.t("fplan.line_unlisted", name=name, unit=unit))
    if len(listed) > LIST_LIMIT:
        lines.append(ctx.t("fplan.more_cadres", n=len(listed) - LIST_LIMIT))
    choices = []
    if any(not c.on_register for c in listed):
        choices.append(("mark", ctx.t("fplan.mark")))
    if any(c.exemption is None for c in listed):
        choices.append(("exempt", ctx.t("fplan.exempt")))
    if await ctx.uow.plans.lasting([c.person_id for c in listed], today):
        choices.append(("end", ctx.t("fplan.end_exemption")))
    waiting = len(await pending_for(ctx))
    if waiting:
        choices.append(("pending", ctx.t("fplan.pending", n=waiting)))
    choices.append(("done", ctx.t("fplan.done")))
    text = ctx.t(
        "fplan.duty_title",
        quarter=quarter,
        year=year,
        subject=len(subject),
        total=len(listed),
        lines="\n".join(lines),
    )
    ctx.ask(duty("menu"), text, choices)


def _label(cadre: Listed) -> str:
    return f"{cadre.person.full_name or '-'} – {cadre.unit.name}"


@duty.step("menu")
async def menu_step(ctx: Context, answer: Answer) -> None:
    listed = await roster(ctx)
    if answer.key in ("mark", "exempt"):
        marking = answer.key == "mark"
        candidates = [c for c in listed if (not c.on_register if marking else c.exemption is None)]
        if not candidates:  # someone else did it meanwhile: show how things stand now
            await duty_command(ctx, "")
            return
        ctx.ask(
            duty(answer.key),
            ctx.t(N_("fplan.who_mark") if marking else N_("fplan.who_exempt")),
            [(str(c.person_id), _label(c)) for c in candidates[:PICK_LIMIT]],
        )
    elif answer.key == "end":
        await _ask_which_exemption(ctx, listed)
    elif answer.key == "pending":
        ctx.finish()
        await show_pending(ctx)
    else:
        ctx.finish()
        ctx.say(ctx.t("fplan.see_you"))


def _picked(listed: list[Listed], answer: Answer) -> Listed | None:
    return next((c for c in listed if str(c.person_id) == answer.key), None)


@duty.step("mark")
async def mark_step(ctx: Context, answer: Answer) -> None:
    ctx.finish()
    cadre = _picked(await roster(ctx), answer)
    if cadre is None or cadre.unit.id is None:
        ctx.say(ctx.t("command.not_allowed"))
        return
    await ctx.uow.plans.enrol(cadre.person_id, cadre.unit.id, by=ctx.person_id, now=ctx.now)
    ctx.audit("fieldplan.enrolled", "field_cadre", cadre.person_id, unit=cadre.unit.code)
    first = local_today(ctx.now, ctx.settings.tz)
    await notify(
        ctx.uow,
        cadre.person,
        N_("fplan.told_subject"),
        now=ctx.now,
        category="reminder",
        dedupe_key=f"fplan:enrolled:{cadre.person_id}:{event_tag(ctx)}",
        not_before=send_time(cadre.unit, ctx.settings, ctx.now),
        choices=[("!plan", N_("fplan.register_plan"))],
        hint_key=N_("fplan.plan_hint"),
        target=cadre.rules.target_days,
        trips=cadre.rules.trips_required,
        first=format_date(first, ctx.settings.tz),
    )
    ctx.say(ctx.t("fplan.marked", name=cadre.person.full_name or "-"))


@duty.step("exempt")
async def exempt_step(ctx: Context, answer: Answer) -> None:
    cadre = _picked(await roster(ctx), answer)
    if cadre is None:
        ctx.finish()
        ctx.say(ctx.t("command.not_allowed"))
        return
    start_exemption(ctx, cadre)


async def _ask_which_exemption(ctx: Context, listed: list[Listed]) -> None:
    today = local_today(ctx.now, ctx.settings.tz)
    names = {c.person_id: c.person.full_name or "-" for c in listed}
    lasting = await ctx.uow.plans.lasting(list(names), today)
    choices = [
        (str(e.id), f"{names[e.person_id]}: {exemption_text(ctx.t, e, ctx.settings.tz)}")
        for e in lasting[:PICK_LIMIT]
    ]
    if not choices:  # ended meanwhile by someone else
        await duty_command(ctx, "")
        return
    ctx.ask(duty("end"), ctx.t("fplan.which_exemption"), choices)


@duty.step("end")
async def end_step(ctx: Context, answer: Answer) -> None:
    ctx.finish()
    listed = {c.person_id: c for c in await roster(ctx)}
    key = answer.key or ""
    exemption = await ctx.uow.plans.exemption(int(key)) if key.isdigit() else None
    cadre = listed.get(exemption.person_id) if exemption is not None else None
    if exemption is None or cadre is None:
        ctx.say(ctx.t("command.not_allowed"))
        return
    today = local_today(ctx.now, ctx.settings.tz)
    # Subject again from today: the exemption's last day is yesterday.
    await ctx.uow.plans.end_exemption(exemption, today - timedelta(days=1))
    ctx.audit("fieldplan.exemption_ended", "visit_exemption", exemption.id, person=cadre.person_id)
    await notify(
        ctx.uow,
        cadre.person,
        N_("fplan.told_exemption_ended"),
        now=ctx.now,
        category="reminder",
        dedupe_key=f"fplan:exemption:{exemption.id}:ended:{event_tag(ctx)}",
        not_before=send_time(cadre.unit, ctx.settings, ctx.now),
        first=format_date(today, ctx.settings.tz),
    )
    ctx.say(ctx.t("fplan.exemption_ended", name=cadre.person.full_name or "-"))
