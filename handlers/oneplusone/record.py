"""A member records a young person they brought in, and gets a referral code for them.

``/gioithieu``: name (a first name will do) → how they know each other → which
activity → the day → whether they took part yet → check and save. Until the young
person answers the code only these words are kept, and only until it expires; the
audit log never holds the young person's name.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.formatting import dmy
from bot.i18n import N_
from bot.matching import fold
from handlers.base import Answer, Context, Flow, action, command
from handlers.oneplusone.common import (
    ACTIVITY_MAX,
    RELATIONS,
    STAGES,
    date_problem,
    member_branches,
    progress_of,
    progress_text,
    read_activity_date,
    referral_text,
    relation_label,
    today,
)
from handlers.people import NAME_MAX, clean_name, name_problem
from storage.models import Recruit, RecruitStage
from storage.recruits import MEMBER_ROLES

record = Flow("r11rec")
RECENT_ACTIVITIES = 3


@command(
    "gioithieu",
    N_("r11.cmd_record"),
    aliases=("gioi thieu", "ghi nhan 1+1", "ghi nhan thanh nien"),
    shown_to=MEMBER_ROLES,
    order=16,
)
async def record_command(ctx: Context, _: str) -> None:
    await start_recording(ctx)


@action("r11new")
async def record_button(ctx: Context, _: list[str]) -> None:
    """ "Ghi nhận bạn mới" on the monthly reminder."""
    ctx.answer_button()
    await start_recording(ctx)


async def start_recording(ctx: Context) -> None:
    ctx.finish()
    assert ctx.person is not None and ctx.person.id is not None
    branches = await member_branches(ctx.uow, ctx.person.id)
    if not branches:
        ctx.say(ctx.t("r11.not_member"))
        return
    if len(branches) == 1:
        _ask_name(ctx, {"unit": branches[0].id})
        return
    ctx.ask(
        record("branch"),
        ctx.t("r11.which_branch"),
        [(str(u.id), u.name) for u in branches],
    )


@record.step("branch")
async def branch_chosen(ctx: Context, answer: Answer) -> None:
    assert ctx.person is not None and ctx.person.id is not None
    branches = {str(u.id): u for u in await member_branches(ctx.uow, ctx.person.id)}
    if answer.key not in branches:
        ctx.repeat_question()
        return
    _ask_name(ctx, {"unit": branches[answer.key].id})


def _ask_name(ctx: Context, data: dict[str, object], problem: str | None = None) -> None:
    text = ctx.t("r11.ask_name")
    if problem:
        text = f"{ctx.t(problem, max=NAME_MAX)}\n{text}"
    ctx.ask(record("name"), text, data=data)


@record.step("name", text=True)
async def name_given(ctx: Context, answer: Answer) -> None:
    name = clean_name(answer.text or "")
    problem = name_problem(name)
    if problem is not None and problem != "name.too_short":  # a first name is enough
        _ask_name(ctx, {}, problem)
        return
    ctx.ask(
        record("relation"),
        ctx.t("r11.ask_relation", name=name),
        [(key, ctx.t(label)) for key, label in RELATIONS.items()],
        data={"name": name},
    )


@record.step("relation")
async def relation_given(ctx: Context, answer: Answer) -> None:
    if answer.key not in RELATIONS:
        ctx.repeat_question()
        return
    await _ask_activity(ctx, {"relation": answer.key})


async def _ask_activity(ctx: Context, data: dict[str, object], problem: str = "") -> None:
    """Offer the branch's latest activities as choices: most recruits come to the same few."""
    recent: list[str] = []
    for recruit in reversed(await ctx.uow.recruits.for_unit(ctx.data["unit"], today(ctx).year)):
        if recruit.activity and recruit.activity not in recent:
            recent.append(recruit.activity)
        if len(recent) == RECENT_ACTIVITIES:
            break
    text = ctx.t("r11.ask_activity")
    ctx.ask(
        record("activity"),
        f"{problem}\n{text}" if problem else text,
        [(f"a{i}", activity) for i, activity in enumerate(recent)],
        data=data,
    )


@record.step("activity", text=True)
async def activity_given(ctx: Context, answer: Answer) -> None:
    activity = " ".join((answer.choice.label if answer.choice else answer.text or "").split())
    if not activity:
        ctx.repeat_question()
        return
    if len(activity) > ACTIVITY_MAX:
        await _ask_activity(ctx, {}, ctx.t("r11.activity_too_long", max=ACTIVITY_MAX))
        return
    _ask_date(ctx, {"activity": activity})


def _ask_date(ctx: Context, data: dict[str, object], problem: str = "") -> None:
    text = ctx.t("r11.ask_date")
    ctx.ask(
        record("date"),
        f"{problem}\n{text}" if problem else text,
        [("today", ctx.t("r11.today"))],
        data=data,
    )


@record.step("date", text=True)
async def date_given(ctx: Context, answer: Answer) -> None:
    on = today(ctx)
    day = on if answer.key == "today" else read_activity_date(answer.text or "", on)
    if day is None:
        _ask_date(ctx, {}, ctx.t("r11.bad_date", text=answer.text or ""))
        return
    problem = date_problem(day, on)
    if problem is not None:
        _ask_date(ctx, {}, ctx.t(problem, date=dmy(day)))
        return
    if day > on:  # a coming activity: contacted, and updated after it
        await _ask_confirm(ctx, {"date": day.isoformat(), "stage": RecruitStage.CONTACTED})
        return
    ctx.ask(
        record("took_part"),
        ctx.t("r11.ask_took_part", name=ctx.data["name"]),
        [("yes", ctx.t("r11.took_part_yes")), ("no", ctx.t("r11.took_part_no"))],
        data={"date": day.isoformat()},
    )


@record.step("took_part")
async def took_part_given(ctx: Context, answer: Answer) -> None:
    stage = RecruitStage.TOOK_PART if answer.key == "yes" else RecruitStage.CONTACTED
    await _ask_confirm(ctx, {"stage": stage})


async def _ask_confirm(ctx: Context, data: dict[str, object]) -> None:
    merged = {**ctx.data, **data}
    text = ctx.t(
        "r11.confirm",
        name=merged["name"],
        relation=relation_label(ctx.t, str(merged["relation"])),
        activity=merged["activity"],
        date=dmy(_day(merged)),
        stage=ctx.t(STAGES[RecruitStage(str(merged["stage"]))]),
    )
    assert ctx.person is not None and ctx.person.id is not None
    year = _day(merged).year
    same = [
        r
        for r in await ctx.uow.recruits.for_member(ctx.person.id, year)
        if r.name and fold(r.name) == fold(str(merged["name"]))
    ]
    if same:
        text += "\n" + ctx.t("r11.same_name", name=merged["name"], date=dmy(same[0].activity_on))
    ctx.ask(
        record("confirm"),
        text,
        [("save", ctx.t("r11.save")), ("cancel", ctx.t("r11.discard"))],
        data=data,
    )


def _day(data: dict[str, object]) -> date:
    return date.fromisoformat(str(data["date"]))


@record.step("confirm")
async def confirmed(ctx: Context, answer: Answer) -> None:
    data = dict(ctx.data)
    ctx.finish()
    if answer.key != "save":
        ctx.say(ctx.t("r11.discarded"))
        return
    person = ctx.person
    assert person is not None and person.id is not None
    branches = {u.id for u in await member_branches(ctx.uow, person.id)}
    if data["unit"] not in branches:  # left the branch while typing
        ctx.say(ctx.t("r11.not_member"))
        return
    day = _day(data)
    recruit = await ctx.uow.recruits.add(
        Recruit(
            member_id=person.id,
            unit_id=int(data["unit"]),
            year=day.year,
            name=str(data["name"]),
            relation=str(data["relation"]),
            activity=str(data["activity"]),
            activity_on=day,
            stage=str(data["stage"]),
            created_at=ctx.now,
            updated_at=ctx.now,
        )
    )
    await ctx.uow.recruits.new_link(
        recruit, ctx.now, timedelta(days=ctx.settings.referral_valid_days)
    )
    ctx.audit("recruit.recorded", "recruit", recruit.id, unit=data["unit"], stage=recruit.stage)
    progress = await progress_of(ctx, person, day.year)
    ctx.say(
        ctx.t("r11.saved", name=recruit.name)
        + "\n\n"
        + referral_text(ctx, recruit)
        + "\n\n"
        + progress_text(ctx.t, progress, day.year)
    )
