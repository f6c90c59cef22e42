"""A member's own "1+1": where they stand this year, their recruits, and moving them on.

``/tiendo11`` lists only the member's own recruits (nobody else's). Picking one
offers what can change: took part, joined the union or the federation, a new code
when the old one is lost, or removing a record the young person never answered.
A move the young person has not confirmed goes to the branch secretary to confirm.
"""

from __future__ import annotations

from datetime import timedelta

from bot.i18n import N_
from handlers.base import Answer, Context, Flow, action, command
from handlers.oneplusone.common import (
    member_branches,
    progress_of,
    progress_text,
    recruit_line,
    referral_text,
    shown_name,
    stage_label,
    today,
)
from handlers.oneplusone.confirm import ask_secretaries
from handlers.oneplusone.record import start_recording
from handlers.oneplusone.rules import EVALUATION_LATE_UNTIL_MONTH, awaits_secretary
from storage.models import JoinedAs, Recruit, RecruitConsent, RecruitStage
from storage.recruits import MEMBER_ROLES

mine = Flow("r11mine")
SHOWN = 8  # recruits offered as choices; a phone screen holds no more
MOVES = {
    "took_part": (RecruitStage.TOOK_PART, None, N_("r11.move_took_part")),
    "union": (RecruitStage.JOINED, JoinedAs.UNION, N_("r11.move_union")),
    "federation": (RecruitStage.JOINED, JoinedAs.FEDERATION, N_("r11.move_federation")),
}
_ORDER = [RecruitStage.CONTACTED, RecruitStage.TOOK_PART, RecruitStage.JOINED]


@command(
    "tiendo11",
    N_("r11.cmd_mine"),
    aliases=("1+1", "1 + 1", "mot cong mot", "tien do 1+1", "tien do mot cong mot"),
    shown_to=MEMBER_ROLES,
    menu=True,
    order=15,
)
async def mine_command(ctx: Context, _: str) -> None:
    await show_mine(ctx)


@action("r11mine")
async def mine_button(ctx: Context, _: list[str]) -> None:
    """ "Xem tiến độ" on the monthly reminder."""
    ctx.answer_button()
    await show_mine(ctx)


async def show_mine(ctx: Context, intro: str = "") -> None:
    ctx.finish()
    person = ctx.person
    assert person is not None and person.id is not None
    if not await member_branches(ctx.uow, person.id):
        ctx.say(ctx.t("r11.not_member"))
        return
    on = today(ctx)
    lines = [intro] if intro else []
    recruits: list[Recruit] = []
    # Until the end of March last year's activities may still be added and moved on.
    years = [on.year - 1, on.year] if on.month <= EVALUATION_LATE_UNTIL_MONTH else [on.year]
    for year in years:
        of_year = list(await ctx.uow.recruits.for_member(person.id, year))
        if year < on.year and not of_year:
            continue
        lines.append(progress_text(ctx.t, await progress_of(ctx, person, year), year))
        # Bullets, not numbers: on Zalo the numbers belong to the menu below.
        lines += [f"• {recruit_line(ctx.t, r)}" for r in of_year]
        recruits += of_year
    if not recruits:
        lines.append(ctx.t("r11.none_yet"))
    choices = [("new", ctx.t("r11.record_new"))]
    changeable = [r for r in recruits if _can_change(r)][-SHOWN:]
    choices += [(str(r.id), ctx.t("r11.update_one", name=shown_name(ctx.t, r))) for r in changeable]
    choices.append(("close", ctx.t("common.close")))
    ctx.ask(mine("pick"), "\n".join(lines), choices)


def _can_change(recruit: Recruit) -> bool:
    """Duplicates never; lapsed ones neither (their name is gone: record the person again);
    a joined one only while its code waits (a new code, or taking it back)."""
    if recruit.consent in (RecruitConsent.DUPLICATE, RecruitConsent.LAPSED):
        return False
    return recruit.stage != RecruitStage.JOINED or recruit.consent == RecruitConsent.PENDING


async def _own(ctx: Context, recruit_id: object) -> Recruit | None:
    """The member's own recruit of that id, or None (someone else's is never shown)."""
    try:
        recruit = await ctx.uow.recruits.get(int(str(recruit_id)))
    except ValueError:
        return None
    if recruit is None or ctx.person is None or recruit.member_id != ctx.person.id:
        return None
    return recruit


@action("r11came")
async def came_button(ctx: Context, args: list[str]) -> None:
    """ "Bạn ấy đã đến" on the question the day after an activity."""
    ctx.answer_button()
    recruit = await _own(ctx, args[0] if args else "")
    if recruit is None or recruit.stage != RecruitStage.CONTACTED or not _can_change(recruit):
        await show_mine(ctx, ctx.t("r11.already_moved"))
        return
    await _move(ctx, recruit, "took_part")


@mine.step("pick")
async def picked(ctx: Context, answer: Answer) -> None:
    if answer.key == "new":
        await start_recording(ctx)
        return
    if answer.key == "close":
        ctx.finish()
        return
    recruit = await _own(ctx, answer.key)
    if recruit is None or not _can_change(recruit):
        await show_mine(ctx)
        return
    choices = [
        (key, ctx.t(label))
        for key, (stage, _joined, label) in MOVES.items()
        if _ORDER.index(RecruitStage(stage)) > _ORDER.index(RecruitStage(recruit.stage))
    ]
    if recruit.consent == RecruitConsent.PENDING:
        choices += [("link", ctx.t("r11.new_link")), ("remove", ctx.t("r11.remove"))]
    choices.append(("back", ctx.t("r11.back")))
    ctx.ask(
        mine("recruit"),
        ctx.t("r11.one", line=recruit_line(ctx.t, recruit)),
        choices,
        data={"recruit": recruit.id},
    )


@mine.step("recruit")
async def recruit_action(ctx: Context, answer: Answer) -> None:
    recruit = await _own(ctx, ctx.data.get("recruit"))
    if recruit is None or answer.key == "back" or not _can_change(recruit):
        await show_mine(ctx)
        return
    if answer.key in MOVES:
        await _move(ctx, recruit, answer.key)
    elif answer.key == "link" and recruit.consent == RecruitConsent.PENDING:
        await ctx.uow.recruits.new_link(
            recruit, ctx.now, timedelta(days=ctx.settings.referral_valid_days)
        )
        ctx.audit("recruit.new_link", "recruit", recruit.id)
        ctx.finish()
        ctx.say(referral_text(ctx, recruit))
    elif answer.key == "remove" and recruit.consent == RecruitConsent.PENDING:
        ctx.finish()
        name = shown_name(ctx.t, recruit)
        await ctx.uow.session.delete(recruit)
        ctx.audit("recruit.removed", "recruit", recruit.id)
        await show_mine(ctx, ctx.t("r11.removed", name=name))
    else:
        await show_mine(ctx)


async def _move(ctx: Context, recruit: Recruit, key: str) -> None:
    stage, joined_as, _label = MOVES[key]
    if _ORDER.index(stage) <= _ORDER.index(RecruitStage(recruit.stage)):
        await show_mine(ctx)  # an older question: the record has moved on since
        return
    recruit.stage, recruit.joined_as = stage, joined_as
    await ctx.uow.recruits.save(recruit, ctx.now)
    ctx.audit("recruit.moved", "recruit", recruit.id, stage=stage, joined_as=joined_as)
    intro = ctx.t("r11.moved", name=shown_name(ctx.t, recruit), stage=stage_label(ctx.t, recruit))
    waits = awaits_secretary(recruit.stage, recruit.consent, False)
    if waits and await ask_secretaries(ctx, recruit):
        intro += "\n" + ctx.t("r11.sent_to_secretary")
    await show_mine(ctx, intro)
