"""The standing committee approves a cadre's quarterly plan or returns it with a reason.

A submitted plan reaches the committee nearest above the cadre's unit with "✅
Duyệt" / "↩ Trả lại" buttons (``!planok:<id>``, ``!planback:<id>``); Zalo, which
has no buttons, uses the words of ``plan_pending``. Anyone on the standing
committee of the cadre's unit or above may decide; the cadre is told either way,
and a returned plan comes with a button to change it.
"""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
from bot.i18n import N_
from bot.messages import Outgoing
from handlers.base import Answer, Context, Flow, action
from handlers.fieldvisits.status import (
    committee_of,
    decides_for,
    event_tag,
    quarter_actuals,
)
from handlers.notify import notify
from scheduler.notices import send_time
from storage.models import Person, PlanStatus, Unit, VisitPlan
from storage.uow import UnitOfWork

review = Flow("freview")
REASON_MAX = 255  # visit_plan.reason


async def tell_committee(
    uow: UnitOfWork,
    plan: VisitPlan,
    cadre: Person,
    unit: Unit,
    settings: Settings,
    now: datetime,
    *,
    tag: str,
) -> int:
    """Ask the committee to decide on ``plan``; returns how many people were asked.

    ``tag`` names this submission: a resubmitted plan is asked about again.
    """
    assert plan.id is not None and cadre.id is not None
    today = now.astimezone(settings.tz).date()
    actual = (await quarter_actuals(uow, [cadre.id], plan.year, plan.quarter, today))[cadre.id]
    asked = 0
    for member in await committee_of(uow, unit):
        if member.id == cadre.id:
            continue
        asked += 1
        await notify(
            uow,
            member,
            N_("fplan.review_request"),
            now=now,
            category="reminder",
            dedupe_key=f"fplan:{plan.id}:review:{tag}:{member.id}",
            not_before=send_time(unit, settings, now),
            choices=[
                (f"!planok:{plan.id}:{plan.revision}", N_("fplan.approve")),
                (f"!planback:{plan.id}:{plan.revision}", N_("fplan.return")),
            ],
            hint_key=N_("fplan.review_hint"),
            name=cadre.full_name or "-",
            unit=unit.name,
            quarter=plan.quarter,
            year=plan.year,
            days=plan.planned_days,
            trips=plan.planned_trips,
            note=plan.note or "-",
            done=actual.days,
            number=plan.id,
        )
    return asked


async def checked_plan(ctx: Context, plan_id: int | None) -> tuple[VisitPlan, Person, Unit] | None:
    """The plan, its cadre and unit, if this person may decide on it (else says why)."""
    assert ctx.person is not None and ctx.person.id is not None
    plan = await ctx.uow.plans.get(plan_id) if plan_id is not None else None
    cadre = await ctx.uow.plans.cadre(plan.person_id) if plan is not None else None
    unit = await ctx.uow.units.get(cadre.unit_id) if cadre is not None else None
    person = await ctx.uow.people.get(plan.person_id) if plan is not None else None
    if plan is None or unit is None or person is None:
        ctx.answer_button(ctx.t("fplan.plan_not_found"))
        ctx.say(ctx.t("fplan.plan_not_found"))
        return None
    if not await decides_for(ctx.uow, ctx.person.id, unit):
        ctx.answer_button(ctx.t("command.not_allowed"))
        ctx.say(ctx.t("command.not_allowed"))
        return None
    if plan.status != PlanStatus.SUBMITTED:
        approved = plan.status == PlanStatus.APPROVED
        key = N_("fplan.already_approved") if approved else N_("fplan.already_returned")
        decided = ctx.t(key, name=person.full_name or "-")
        ctx.answer_button(decided)
        ctx.say(decided)
        return None
    return plan, person, unit


def _settle_request(ctx: Context, label: str) -> None:
    """On Telegram the request shows the decision and loses its buttons."""
    incoming = ctx.incoming
    if incoming.message_ref is None or incoming.callback_data is None:
        return
    ctx.outputs.append(
        Outgoing(
            kind="edit",
            chat_id=incoming.chat_id,
            message_ref=incoming.message_ref,
            text=ctx.t("choice.picked", question=incoming.message_text or "", label=label).strip(),
        )
    )


def _arg_id(args: list[str]) -> int | None:
    return int(args[0]) if args and args[0].isdigit() else None


def _outdated(ctx: Context, plan: VisitPlan, args: list[str]) -> bool:
    """A button from before the cadre changed the plan: decide on the new figures instead."""
    if len(args) > 1 and args[1].isdigit() and int(args[1]) != plan.revision:
        ctx.answer_button(ctx.t("fplan.plan_changed"))
        ctx.say(ctx.t("fplan.plan_changed"))
        return True
    return False


@action("planok")
async def approve_button(ctx: Context, args: list[str]) -> None:
    found = await checked_plan(ctx, _arg_id(args))
    if found is not None and not _outdated(ctx, found[0], args):
        ctx.answer_button()
        _settle_request(ctx, ctx.t("fplan.approve"))
        await approve(ctx, *found)


@action("planback")
async def return_button(ctx: Context, args: list[str]) -> None:
    found = await checked_plan(ctx, _arg_id(args))
    if found is not None and not _outdated(ctx, found[0], args):
        ctx.answer_button()
        _settle_request(ctx, ctx.t("fplan.return"))
        ask_reason(ctx, found[0], found[1])


def ask_reason(ctx: Context, plan: VisitPlan, person: Person) -> None:
    ctx.ask(
        review("reason"),
        ctx.t("fplan.ask_reason", name=person.full_name or "-", max=REASON_MAX),
        data={"plan": plan.id},
    )


@review.step("reason", text=True)
async def reason_step(ctx: Context, answer: Answer) -> None:
    reason = " ".join((answer.text or "").split())
    if not reason or len(reason) > REASON_MAX:
        if reason:
            ctx.say(ctx.t("fplan.reason_too_long", max=REASON_MAX, length=len(reason)))
        ctx.repeat_question()
        return
    found = await checked_plan(ctx, ctx.data.get("plan"))
    ctx.finish()
    if found is not None:
        await send_back(ctx, *found, reason)


async def approve(ctx: Context, plan: VisitPlan, cadre: Person, unit: Unit) -> None:
    assert ctx.person is not None and ctx.person.id is not None
    await ctx.uow.plans.decide(plan, PlanStatus.APPROVED, by=ctx.person.id, now=ctx.now)
    ctx.audit("fieldplan.approved", "visit_plan", plan.id, person=plan.person_id)
    await _tell_cadre(ctx, plan, cadre, unit, N_("fplan.told_approved"))
    ctx.say(
        ctx.t("fplan.approved", name=cadre.full_name or "-", quarter=plan.quarter, year=plan.year)
    )


async def send_back(ctx: Context, plan: VisitPlan, cadre: Person, unit: Unit, reason: str) -> None:
    assert ctx.person is not None and ctx.person.id is not None
    await ctx.uow.plans.decide(
        plan, PlanStatus.RETURNED, by=ctx.person.id, now=ctx.now, reason=reason
    )
    ctx.audit("fieldplan.returned", "visit_plan", plan.id, person=plan.person_id, reason=reason)
    await _tell_cadre(ctx, plan, cadre, unit, N_("fplan.told_returned"), reason=reason)
    ctx.say(
        ctx.t("fplan.returned", name=cadre.full_name or "-", quarter=plan.quarter, year=plan.year)
    )


async def _tell_cadre(
    ctx: Context, plan: VisitPlan, cadre: Person, unit: Unit, key: str, reason: str = ""
) -> None:
    returned = plan.status == PlanStatus.RETURNED
    await notify(
        ctx.uow,
        cadre,
        key,
        now=ctx.now,
        category="reminder",
        dedupe_key=f"fplan:{plan.id}:{plan.status}:{event_tag(ctx)}",
        not_before=send_time(unit, ctx.settings, ctx.now),
        choices=[("!plan", N_("fplan.edit_plan"))] if returned else [],
        hint_key=N_("fplan.plan_hint") if returned else None,
        quarter=plan.quarter,
        year=plan.year,
        days=plan.planned_days,
        trips=plan.planned_trips,
        reason=reason,
        by=ctx.person.full_name if ctx.person and ctx.person.full_name else "-",
    )
