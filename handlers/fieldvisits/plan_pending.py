"""Deciding on plans by words (Zalo has no buttons), and the list of plans waiting.

"duyet ke hoach 12" approves plan 12, "tra lai ke hoach 12 thiếu đợt chuyên đề"
returns it with that reason (without one, the reason is asked for). Without a
number, or from "/canbo12", the plans waiting for this member are listed to pick
one, then approve or return it: the same steps on both channels.
"""

from __future__ import annotations

import re

from bot.i18n import N_
from handlers.base import Answer, Context, command
from handlers.fieldvisits.plan_review import (
    REASON_MAX,
    approve,
    ask_reason,
    checked_plan,
    review,
    send_back,
)
from handlers.fieldvisits.status import COMMITTEE_ROLES, committee_units
from storage.models import Person, Unit, VisitPlan

PENDING_SHOWN = 20
_NUMBER = re.compile(r"#?(\d{1,9})\b\s*[:,.-]?\s*(.*)", re.DOTALL)


@command(
    "duyetkh",
    N_("fplan.cmd_approve"),
    roles=COMMITTEE_ROLES,
    aliases=("duyet ke hoach", "duyet kh"),
    public=False,
    takes_text=True,
)
async def approve_words(ctx: Context, arg: str) -> None:
    named = await _named_plan(ctx, arg)
    if named is not None:
        await approve(ctx, *named[0])


async def _named_plan(ctx: Context, arg: str) -> tuple[tuple[VisitPlan, Person, Unit], str] | None:
    """The plan "duyet ke hoach 12 …" names, and the words after its number.

    Without a number the plans waiting are listed to pick from; None then, or when
    the plan cannot be decided (the reason has been said).
    """
    ctx.finish()
    match = _NUMBER.fullmatch(arg.strip())
    if match is None:
        await show_pending(ctx)
        return None
    found = await checked_plan(ctx, int(match.group(1)))
    return None if found is None else (found, match.group(2))


@command(
    "tralaikh",
    N_("fplan.cmd_return"),
    roles=COMMITTEE_ROLES,
    aliases=("tra lai ke hoach", "tra lai kh"),
    public=False,
    takes_text=True,
)
async def return_words(ctx: Context, arg: str) -> None:
    named = await _named_plan(ctx, arg)
    if named is None:
        return
    found, rest = named
    reason = " ".join(rest.split())
    if not reason:
        ask_reason(ctx, found[0], found[1])
    elif len(reason) <= REASON_MAX:
        await send_back(ctx, *found, reason)
    else:
        ctx.say(ctx.t("fplan.reason_too_long", max=REASON_MAX, length=len(reason)))
        ask_reason(ctx, found[0], found[1])


async def pending_for(ctx: Context) -> list[VisitPlan]:
    """Plans waiting for this person's decision: those of cadres in their units' subtrees."""
    assert ctx.person is not None and ctx.person.id is not None
    people: set[int] = set()
    for unit in await committee_units(ctx.uow, ctx.person.id):
        people |= {cadre.person_id for cadre, _, _ in await ctx.uow.plans.register_in(unit)}
    return await ctx.uow.plans.awaiting(sorted(people))


async def show_pending(ctx: Context) -> None:
    """The plans waiting, to pick one and decide."""
    plans = (await pending_for(ctx))[:PENDING_SHOWN]
    if not plans:
        ctx.say(ctx.t("fplan.nothing_pending"))
        return
    names = await ctx.uow.people.names([p.person_id for p in plans])
    choices = [
        (
            str(p.id),
            ctx.t(
                "fplan.pending_line",
                name=names.get(p.person_id, "-"),
                quarter=p.quarter,
                year=p.year,
                days=p.planned_days,
            ),
        )
        for p in plans
    ]
    ctx.ask(review("pick"), ctx.t("fplan.pending_title", n=len(plans)), choices)


@review.step("pick")
async def pick_step(ctx: Context, answer: Answer) -> None:
    key = answer.key or ""
    found = await checked_plan(ctx, int(key) if key.isdigit() else None)
    if found is None:
        ctx.finish()
        return
    plan, person, unit = found
    ctx.ask(
        review("decide"),
        ctx.t(
            "fplan.plan_card",
            name=person.full_name or "-",
            unit=unit.name,
            quarter=plan.quarter,
            year=plan.year,
            days=plan.planned_days,
            trips=plan.planned_trips,
            note=plan.note or "-",
        ),
        [("ok", ctx.t("fplan.approve")), ("back", ctx.t("fplan.return"))],
        data={"plan": plan.id},
    )


@review.step("decide")
async def decide_step(ctx: Context, answer: Answer) -> None:
    found = await checked_plan(ctx, ctx.data.get("plan"))
    if found is None:
        ctx.finish()
    elif answer.key == "ok":
        ctx.finish()
        await approve(ctx, *found)
    else:
        ask_reason(ctx, found[0], found[1])
