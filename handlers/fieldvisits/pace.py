"""A cadre asks how far along they are: "/songay", "mình đã đi bao nhiêu ngày".

The answer: days counted so far in the counting year against the target, how many
are still needed and how many days the year has left, the thematic trips done
(``check_trips``), whether that is on pace (``pace``), and the quarter's plan
against what was done. An exempt cadre is told they are exempt, and until when.
"""

from __future__ import annotations

from bot.formatting import format_date
from bot.i18n import N_
from handlers.base import Context, command
from handlers.fieldvisits.status import (
    COMMITTEE_ROLES,
    exemption_text,
    on_register,
    plan_text,
    quarter_actuals,
    quarter_of,
    standing,
)
from storage.models import Role


@command(
    "songay",
    N_("fplan.cmd_pace"),
    roles={Role.CADRE, *COMMITTEE_ROLES},
    aliases=("minh da di bao nhieu ngay", "da di bao nhieu ngay", "so ngay di co so", "songay"),
    menu=True,
    order=45,
)
async def pace_command(ctx: Context, _: str) -> None:
    ctx.finish()
    me = await on_register(ctx)
    if me is None:
        return
    tz = ctx.settings.tz
    if me.exemption is not None:
        ctx.say(ctx.t("fplan.pace_exempt", exemption=exemption_text(ctx.t, me.exemption, tz)))
        return
    assert ctx.person is not None and ctx.person.id is not None
    now = await standing(ctx.uow, ctx.person.id, me.rules, me.today)
    done = now.pace
    lines = [
        ctx.t(
            "fplan.pace_days",
            first=format_date(now.window[0], tz),
            days=done.days_so_far,
            target=me.rules.target_days,
        )
    ]
    if done.days_needed == 0:
        lines.append(ctx.t("fplan.pace_reached"))
    else:
        lines.append(
            ctx.t(
                "fplan.pace_needed",
                needed=done.days_needed,
                left=done.days_left_in_window,
                last=format_date(now.window[1], tz),
            )
        )
        key = N_("fplan.pace_on") if done.on_pace else N_("fplan.pace_behind")
        lines.append(ctx.t(key, expected=done.expected_by_now, behind=done.behind_by))
        if not done.feasible:
            lines.append(ctx.t("fplan.pace_not_feasible"))
    lines.append(ctx.t("fplan.pace_trips", done=now.trips.count, required=now.trips.required))
    if now.trips.too_close:
        lines.append(ctx.t("fplan.pace_trips_too_close"))
    year, quarter = quarter_of(me.today)
    plan = (await ctx.uow.plans.plans([ctx.person.id], year, quarter)).get(ctx.person.id)
    actual = (await quarter_actuals(ctx.uow, [ctx.person.id], year, quarter, me.today))[
        ctx.person.id
    ]
    lines.append(plan_text(ctx.t, year, quarter, plan, actual))
    ctx.say("\n".join(lines))
