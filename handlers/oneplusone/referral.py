"""The young person opens the referral code: sees what would be kept, agrees or declines.

Agreeing keeps their name and this chat account, linked to the member who brought
them (a guest account: no roles, only their own data to see or delete). Declining
keeps nothing about them: the record becomes an anonymous count. Whatever they
answer, the member hears it.

A code is one answer: opened again it says it was used; opened by the member who
made it, it says to pass it on; expired, it says to ask for a new one. The same young
person confirming a second member's code in a year is counted once.
"""

from __future__ import annotations

from bot.formatting import dmy
from bot.i18n import N_
from handlers.base import Answer, Context, Flow
from handlers.link import CHANNEL_NAMES
from handlers.oneplusone.common import (
    is_counted,
    relation_label,
    shown_name,
    tell_member,
    today,
)
from handlers.oneplusone.rules import COUNTING_STAGES
from handlers.people import NAME_MAX, clean_name, name_problem
from storage.models import (
    Consent,
    JoinedAs,
    Person,
    PersonStatus,
    Recruit,
    RecruitConsent,
    RecruitStage,
)
from storage.recruits import RecruitRepository

referral = Flow("r11ref")
CONSENT_PURPOSE = "oneplusone"
# Bump when the consent text (r11.ref_consent) changes: each consent row records it.
CONSENT_VERSION = "2026-12-v1"


async def open_referral(ctx: Context, recruit: Recruit) -> None:
    """A referral code typed on Zalo or opened from a Telegram link."""
    ctx.finish()
    member = await ctx.uow.people.get(recruit.member_id) if recruit.member_id else None
    member_name = member.full_name if member and member.full_name else ctx.t("r11.a_member")
    if ctx.person is not None and ctx.person.id == recruit.member_id:
        ctx.say(ctx.t("r11.ref_own", name=shown_name(ctx.t, recruit)))
        return
    if recruit.consent == RecruitConsent.LAPSED:
        ctx.say(ctx.t("r11.ref_expired", member=member_name))
        return
    if recruit.consent != RecruitConsent.PENDING:
        mine = ctx.person is not None and ctx.person.id == recruit.recruit_person_id
        ctx.say(ctx.t("r11.ref_already_yours") if mine else ctx.t("r11.ref_used"))
        return
    if recruit.code_expires_at is None or recruit.code_expires_at <= ctx.now:
        ctx.say(ctx.t("r11.ref_expired", member=member_name))
        return
    if ctx.person is not None and not ctx.is_guest:
        # Already a member: "1+1" counts young people brought in from outside.
        ctx.say(ctx.t("r11.ref_already_member", member=member_name))
        return
    if ctx.person is not None and ctx.person.id is not None:
        earlier = await ctx.uow.recruits.confirmed_in(ctx.person.id, recruit.year)
        if earlier is not None and not _gives_way(earlier, recruit):
            await _duplicate(ctx, recruit)
            return
    unit = await ctx.uow.units.get(recruit.unit_id)
    ctx.ask(
        referral("consent"),
        ctx.t(
            "r11.ref_consent",
            member=member_name,
            unit=unit.name if unit else "-",
            name=shown_name(ctx.t, recruit),
            relation=relation_label(ctx.t, recruit.relation),
            activity=recruit.activity or "-",
            date=dmy(recruit.activity_on),
            channel=CHANNEL_NAMES[ctx.incoming.channel.value],
        ),
        [
            ("agree", ctx.t("r11.ref_agree")),
            ("rename", ctx.t("r11.ref_agree_rename")),
            ("decline", ctx.t("r11.ref_decline")),
        ],
        data={"recruit": recruit.id, "code": recruit.code},
    )


async def _still_open(ctx: Context) -> Recruit | None:
    """The record the question was about, if its code still waits for this answer."""
    recruit = await ctx.uow.recruits.get(int(ctx.data.get("recruit", 0)))
    if (
        recruit is None
        or recruit.code != ctx.data.get("code")
        or recruit.consent != RecruitConsent.PENDING
    ):
        ctx.finish()
        ctx.say(ctx.t("r11.ref_used"))
        return None
    if recruit.code_expires_at is None or recruit.code_expires_at <= ctx.now:
        ctx.finish()
        ctx.say(ctx.t("r11.ref_expired", member=ctx.t("r11.a_member")))
        return None
    return recruit


@referral.step("consent")
async def consent_given(ctx: Context, answer: Answer) -> None:
    recruit = await _still_open(ctx)
    if recruit is None:
        return
    if answer.key == "decline":
        await _decline(ctx, recruit)
    elif answer.key == "rename":
        ctx.ask(referral("name"), ctx.t("r11.ref_ask_name"))
    elif answer.key == "agree":
        await _confirm(ctx, recruit, recruit.name or "")


@referral.step("name", text=True)
async def name_given(ctx: Context, answer: Answer) -> None:
    recruit = await _still_open(ctx)
    if recruit is None:
        return
    name = clean_name(answer.text or "")
    problem = name_problem(name)
    if problem is not None and problem != "name.too_short":
        ctx.ask(referral("name"), f"{ctx.t(problem, max=NAME_MAX)}\n{ctx.t('r11.ref_ask_name')}")
        return
    await _confirm(ctx, recruit, name)


async def _confirm(ctx: Context, recruit: Recruit, name: str) -> None:
    ctx.finish()
    person = ctx.person
    if person is None:
        person = await ctx.uow.people.add(name, ctx.t.locale, PersonStatus.GUEST)
        incoming = ctx.incoming
        ctx.identity = await ctx.uow.people.add_identity(
            person, incoming.channel.value, incoming.user_id, incoming.chat_id, ctx.now
        )
        ctx.person = person
    assert person.id is not None
    earlier = await ctx.uow.recruits.confirmed_in(person.id, recruit.year)
    if earlier is not None:
        if not _gives_way(earlier, recruit):
            await _duplicate(ctx, recruit)
            return
        # The earlier record never counted, this one would: one young person, one count.
        old_name = earlier.name
        RecruitRepository.wipe(earlier, RecruitConsent.DUPLICATE, ctx.now)
        await ctx.uow.recruits.save(earlier, ctx.now)
        ctx.audit("recruit.duplicate", "recruit", earlier.id, replaced_by=recruit.id)
        await tell_member(
            ctx,
            earlier,
            N_("r11.told_duplicate"),
            dedupe_key=f"r11:answer:{earlier.id}:replaced",
            name=old_name or "",
        )
    ctx.uow.session.add(
        Consent(
            person_id=person.id,
            purpose=CONSENT_PURPOSE,
            text_version=CONSENT_VERSION,
            channel=ctx.incoming.channel.value,
            given_at=ctx.now,
        )
    )
    recruit.name = name
    recruit.recruit_person_id = person.id
    recruit.consent = RecruitConsent.CONFIRMED
    recruit.answered_at = ctx.now
    await ctx.uow.recruits.save(recruit, ctx.now)
    ctx.audit("recruit.confirmed", "recruit", recruit.id, consent=CONSENT_VERSION)
    ctx.say(ctx.t("r11.ref_thanks"))
    await _tell_member(ctx, recruit, N_("r11.told_confirmed"), name=name)


def _gives_way(earlier: Recruit, new: Recruit) -> bool:
    """The young person already confirmed ``earlier`` this year: it gives way to ``new``
    only when it never counted (they did not come) and ``new`` says they took part."""
    return not is_counted(earlier) and new.stage in COUNTING_STAGES


async def _decline(ctx: Context, recruit: Recruit) -> None:
    ctx.finish()
    name = recruit.name
    RecruitRepository.wipe(recruit, RecruitConsent.DECLINED, ctx.now)
    await ctx.uow.recruits.save(recruit, ctx.now)
    ctx.audit("recruit.declined", "recruit", recruit.id)
    ctx.say(ctx.t("r11.ref_declined"))
    await _tell_member(ctx, recruit, N_("r11.told_declined"), name=name or "")


async def _duplicate(ctx: Context, recruit: Recruit) -> None:
    """This young person already counts for someone this year: one young person, one count."""
    ctx.finish()
    name = recruit.name
    RecruitRepository.wipe(recruit, RecruitConsent.DUPLICATE, ctx.now)
    await ctx.uow.recruits.save(recruit, ctx.now)
    ctx.audit("recruit.duplicate", "recruit", recruit.id)
    ctx.say(ctx.t("r11.ref_duplicate", year=recruit.year))
    await _tell_member(ctx, recruit, N_("r11.told_duplicate"), name=name or "")


async def _tell_member(ctx: Context, recruit: Recruit, key: str, *, name: str) -> None:
    await tell_member(
        ctx,
        recruit,
        key,
        dedupe_key=f"r11:answer:{recruit.id}",
        name=name,
    )


async def young_person_joined(ctx: Context, person: Person) -> None:
    """A young person with confirmed records joined the union through an invite: their
    records move to "joined the union", and each member who brought them hears it."""
    assert person.id is not None
    this_year = today(ctx).year
    for recruit in await ctx.uow.recruits.of_young_person(person.id):
        if recruit.stage == RecruitStage.JOINED or recruit.year != this_year:
            continue  # an earlier year (maybe evaluated already) keeps what it had
        recruit.stage, recruit.joined_as = RecruitStage.JOINED, JoinedAs.UNION
        await ctx.uow.recruits.save(recruit, ctx.now)
        ctx.audit("recruit.joined", "recruit", recruit.id, joined_as=JoinedAs.UNION)
        await tell_member(
            ctx,
            recruit,
            N_("r11.told_joined"),
            dedupe_key=f"r11:joined:{recruit.id}",
            name=person.full_name or "-",
        )
