"""The branch secretary confirms what a member says about a young person who never
answered the referral code themselves (no smartphone, no Zalo…): only then it counts.

A member's move to "took part" or "joined" is sent to the branch's leaders with two
buttons; the buttons carry the stage, so an old button cannot confirm a record that
has changed since. Nobody confirms their own recruit: when the branch's only leader
recorded it, the grassroots union's leaders are asked. ``/xacnhan11`` lists what
waits, for a leader who missed it. A "not right" sends the record back to "contacted"
and tells the member.
"""

from __future__ import annotations

from bot.formatting import dmy
from bot.i18n import N_, Translator
from handlers.base import Answer, Context, Flow, action, command
from handlers.fieldvisits.status import event_tag
from handlers.notify import notify
from handlers.oneplusone.common import (
    quiet_end,
    relation_label,
    shown_name,
    stage_label,
    tell_member,
    today,
)
from handlers.oneplusone.rules import awaits_secretary
from storage.models import Recruit, RecruitStage
from storage.outbox import INTERACTIVE
from storage.recruits import CONFIRMER_ROLES

confirm = Flow("r11ok")
CONFIRMERS = CONFIRMER_ROLES
LISTED = 8


async def _confirmer_units(ctx: Context) -> set[int]:
    assert ctx.person is not None and ctx.person.id is not None
    return await ctx.uow.recruits.confirm_scope(ctx.person.id)


async def _may_confirm(ctx: Context, recruit: Recruit) -> bool:
    """A leader of the recruit's branch; or of the unit above it, but only when the branch
    has no leader other than the member who recorded it (names stay in the branch)."""
    assert ctx.person is not None and ctx.person.id is not None
    if recruit.unit_id not in await _confirmer_units(ctx):
        return False
    led = {p.id for p in await ctx.uow.recruits.confirmers(recruit.unit_id)}
    if ctx.person.id in led:
        return True
    return not (led - {recruit.member_id})


def _about(t: Translator, recruit: Recruit, member: str) -> dict[str, str]:
    """The words of a confirmation question (r11.ask_verify)."""
    return {
        "member": member,
        "name": shown_name(t, recruit),
        "relation": relation_label(t, recruit.relation),
        "stage": stage_label(t, recruit),
        "activity": recruit.activity or "-",
        "date": dmy(recruit.activity_on),
    }


async def ask_secretaries(ctx: Context, recruit: Recruit) -> int:
    """Ask the branch's secretary and deputies to confirm ``recruit``'s stage (or the
    grassroots union's, when the member is the branch's only leader)."""
    assert recruit.id is not None and ctx.person is not None
    who = [p for p in await ctx.uow.recruits.confirmers(recruit.unit_id) if p.id != ctx.person.id]
    unit = await ctx.uow.units.get(recruit.unit_id)
    if not who and unit is not None and unit.parent_id is not None:
        above = await ctx.uow.recruits.confirmers(unit.parent_id)
        who = [p for p in above if p.id != ctx.person.id]
    sent = 0
    for leader in who:
        sent += await notify(
            ctx.uow,
            leader,
            "r11.ask_verify",
            now=ctx.now,
            category="notice",
            dedupe_key=f"r11:verify:{recruit.id}:{event_tag(ctx)}:{leader.id}",
            priority=INTERACTIVE,
            choices=[
                (f"!r11ok:{recruit.id}:{recruit.stage}", N_("r11.verify_yes")),
                (f"!r11no:{recruit.id}:{recruit.stage}", N_("r11.verify_no")),
            ],
            not_before=await quiet_end(ctx, recruit.unit_id),
            **_about(Translator(leader.locale), recruit, ctx.person.full_name or "-"),
        )
    return sent


async def _waiting(ctx: Context, recruit_id: str, stage: str) -> Recruit | None:
    """The record the button was about, if it still waits for this leader's word."""
    try:
        recruit = await ctx.uow.recruits.get(int(recruit_id))
    except ValueError:
        recruit = None
    if ctx.person is not None and recruit is not None and recruit.member_id == ctx.person.id:
        ctx.say(ctx.t("r11.verify_own"))  # nobody confirms their own recruit
        return None
    if recruit is None or not await _may_confirm(ctx, recruit):
        ctx.say(ctx.t("r11.verify_stale"))
        return None
    if recruit.verified_at is not None:
        ctx.say(ctx.t("r11.verify_already", name=shown_name(ctx.t, recruit)))
        return None
    if recruit.stage != stage or not awaits_secretary(recruit.stage, recruit.consent, False):
        ctx.say(ctx.t("r11.verify_stale"))
        return None
    return recruit


@action("r11ok")
async def verify_button(ctx: Context, args: list[str]) -> None:
    ctx.answer_button()
    if len(args) == 2:
        recruit = await _waiting(ctx, args[0], args[1])
        if recruit is not None:
            await _decide(ctx, recruit, True)


@action("r11no")
async def reject_button(ctx: Context, args: list[str]) -> None:
    ctx.answer_button()
    if len(args) == 2:
        recruit = await _waiting(ctx, args[0], args[1])
        if recruit is not None:
            await _decide(ctx, recruit, False)


async def _decide(ctx: Context, recruit: Recruit, right: bool) -> None:
    assert ctx.person is not None
    name = shown_name(ctx.t, recruit)
    if right:
        recruit.verified_by_id, recruit.verified_at = ctx.person.id, ctx.now
        key, told = N_("r11.verified"), N_("r11.told_verified")
    else:
        recruit.stage, recruit.joined_as = RecruitStage.CONTACTED, None
        key, told = N_("r11.not_verified"), N_("r11.told_not_verified")
    await ctx.uow.recruits.save(recruit, ctx.now)
    ctx.audit("recruit.verified" if right else "recruit.not_verified", "recruit", recruit.id)
    ctx.say(ctx.t(key, name=name))
    await tell_member(
        ctx,
        recruit,
        told,
        dedupe_key=f"r11:decided:{recruit.id}:{event_tag(ctx)}",
        name=recruit.name or "",
        secretary=ctx.person.full_name or "-",
    )


@command(
    "xacnhan11",
    N_("r11.cmd_verify"),
    roles=CONFIRMERS,
    aliases=("xac nhan 1+1", "xac nhan mot cong mot"),
    order=38,
)
async def verify_command(ctx: Context, _: str) -> None:
    ctx.finish()
    year = today(ctx).year
    waiting: list[Recruit] = []
    for unit_id in sorted(await _confirmer_units(ctx)):
        for year_ in (year - 1, year):
            waiting += [
                r
                for r in await ctx.uow.recruits.for_unit(unit_id, year_)
                if awaits_secretary(r.stage, r.consent, r.verified_at is not None)
                and r.member_id != ctx.person_id
                and await _may_confirm(ctx, r)
            ]
    if not waiting:
        ctx.say(ctx.t("r11.verify_none"))
        return
    names = await ctx.uow.people.names([r.member_id for r in waiting if r.member_id])
    ctx.ask(
        confirm("pick"),
        ctx.t("r11.verify_list", n=len(waiting)),
        [
            (
                str(r.id),
                ctx.t(
                    "r11.verify_item",
                    name=shown_name(ctx.t, r),
                    member=names.get(r.member_id or 0, "-"),
                    stage=stage_label(ctx.t, r),
                ),
            )
            for r in waiting[:LISTED]
        ]
        + [("close", ctx.t("common.close"))],
    )


@confirm.step("pick")
async def picked(ctx: Context, answer: Answer) -> None:
    if answer.key == "close" or answer.key is None:
        ctx.finish()
        return
    try:
        recruit = await ctx.uow.recruits.get(int(answer.key))
    except ValueError:
        recruit = None
    if recruit is None:
        ctx.finish()
        ctx.say(ctx.t("r11.verify_stale"))
        return
    names = await ctx.uow.people.names([recruit.member_id] if recruit.member_id else [])
    ctx.ask(
        confirm("decide"),
        ctx.t("r11.ask_verify", **_about(ctx.t, recruit, names.get(recruit.member_id or 0, "-"))),
        [("yes", ctx.t("r11.verify_yes")), ("no", ctx.t("r11.verify_no"))],
        data={"recruit": recruit.id, "stage": recruit.stage},
    )


@confirm.step("decide")
async def decided(ctx: Context, answer: Answer) -> None:
    recruit_id, stage = str(ctx.data.get("recruit")), str(ctx.data.get("stage"))
    ctx.finish()
    recruit = await _waiting(ctx, recruit_id, stage)
    if recruit is not None:
        await _decide(ctx, recruit, answer.key == "yes")
