"""The branch's "1+1" year in four steps, kept by the secretary: ``/kehoach11``.

1. Survey: how many young people in the area are outside the union (and a note).
2. Plan: what the branch will do to bring them in.
3. Carry out: nothing to type — the bot counts the members' confirmed recruits.
4. Evaluate: from 1 November (and for last year until the end of March) the
   secretary grades the year; the bot shows and keeps its own numbers with the grade,
   so an evaluation always says what it was based on.
"""

from __future__ import annotations

import re
from typing import Any

from bot.formatting import format_date
from bot.i18n import N_
from handlers.base import Answer, Context, Flow, command
from handlers.oneplusone.common import today
from handlers.oneplusone.confirm import CONFIRMERS
from handlers.oneplusone.report_build import branch_figures
from handlers.oneplusone.rules import evaluation_year
from storage.models import RecruitPlan, Unit

flow = Flow("r11plan")
NOTE_MAX = 500
EVALUATION_MAX = 1000
SURVEY_MAX = 100_000
GRADES = {
    "excellent": N_("r11.grade_excellent"),
    "good": N_("r11.grade_good"),
    "done": N_("r11.grade_done"),
    "not_done": N_("r11.grade_not_done"),
}
_NUMBER = re.compile(r"^\D*?(\d{1,7})\D*$")


async def _branches(ctx: Context) -> dict[str, Unit]:
    """The branches this person leads (a grassroots union has no branch plan of its own)."""
    assert ctx.person is not None and ctx.person.id is not None
    branches = {unit.id for unit in await ctx.uow.recruits.branches_of(ctx.person.id)}
    return {
        str(unit.id): unit
        for membership, unit in await ctx.uow.people.memberships(ctx.person.id)
        if membership.role in CONFIRMERS and unit.id in branches
    }


@command(
    "kehoach11",
    N_("r11.cmd_plan"),
    roles=CONFIRMERS,
    menu=True,
    aliases=("ke hoach 1+1", "ke hoach mot cong mot", "danh gia 1+1"),
    order=17,
)
async def plan_command(ctx: Context, _: str) -> None:
    ctx.finish()
    branches = await _branches(ctx)
    if not branches:
        ctx.say(ctx.t("r11.plan_branches_only"))
        return
    if len(branches) == 1:
        await show_plan(ctx, next(iter(branches.values())))
        return
    ctx.ask(flow("branch"), ctx.t("r11.which_branch"), [(k, u.name) for k, u in branches.items()])


@flow.step("branch")
async def branch_chosen(ctx: Context, answer: Answer) -> None:
    unit = (await _branches(ctx)).get(answer.key or "")
    if unit is None:
        ctx.repeat_question()
        return
    await show_plan(ctx, unit)


async def _unit(ctx: Context) -> Unit | None:
    """The branch the flow is about, if this person still leads it."""
    unit = (await _branches(ctx)).get(str(ctx.data.get("unit")))
    if unit is None:
        ctx.finish()
        ctx.say(ctx.t("command.not_allowed"))
    return unit


async def show_plan(ctx: Context, unit: Unit, intro: str = "") -> None:
    assert unit.id is not None
    year = today(ctx).year
    plan = await ctx.uow.recruits.plan(unit.id, year)
    figures = await branch_figures(ctx.uow, unit, year, ctx.settings)
    text = ctx.t(
        "r11.plan_status",
        year=year,
        unit=unit.name,
        survey=_survey_text(ctx, plan),
        plan=_plan_text(ctx, plan),
        took_part=figures["took_part"],
        target=figures["target"],
        reached=figures["reached"],
        members=figures["members"],
        evaluation=await _evaluation_text(ctx, unit),
    )
    choices = [
        ("survey", ctx.t("r11.plan_do_survey")),
        ("plan", ctx.t("r11.plan_do_plan")),
    ]
    closing = evaluation_year(today(ctx))
    if closing is not None:
        choices.append(("evaluate", ctx.t("r11.plan_do_evaluate", year=closing)))
    choices.append(("close", ctx.t("common.close")))
    ctx.ask(
        flow("pick"),
        f"{intro}\n\n{text}" if intro else text,
        choices,
        data={"unit": unit.id},
    )


def _survey_text(ctx: Context, plan: RecruitPlan | None) -> str:
    if plan is None or plan.surveyed is None:
        return ctx.t("r11.plan_not_yet")
    text = ctx.t("r11.plan_surveyed", n=plan.surveyed)
    return f"{text} ({plan.survey_note})" if plan.survey_note else text


def _plan_text(ctx: Context, plan: RecruitPlan | None) -> str:
    if plan is None or plan.planned_at is None:
        return ctx.t("r11.plan_not_yet")
    return ctx.t(
        "r11.plan_planned",
        date=format_date(plan.planned_at, ctx.settings.tz),
        activities=plan.activities or "-",
    )


async def _evaluation_text(ctx: Context, unit: Unit) -> str:
    assert unit.id is not None
    closing = evaluation_year(today(ctx))
    if closing is None:
        return ctx.t("r11.plan_evaluation_later", year=today(ctx).year)
    plan = await ctx.uow.recruits.plan(unit.id, closing)
    if plan is None or plan.evaluated_at is None or plan.grade is None:
        return ctx.t("r11.plan_not_yet")
    return ctx.t(
        "r11.plan_evaluated",
        year=closing,
        grade=ctx.t(GRADES.get(plan.grade, GRADES["done"])),
        date=format_date(plan.evaluated_at, ctx.settings.tz),
    )


@flow.step("pick")
async def picked(ctx: Context, answer: Answer) -> None:
    unit = await _unit(ctx)
    if unit is None:
        return
    if answer.key == "survey":
        ctx.ask(flow("surveyed"), ctx.t("r11.ask_surveyed"))
    elif answer.key == "plan":
        ctx.ask(flow("activities"), ctx.t("r11.ask_activities"))
    elif answer.key == "evaluate":
        await _ask_grade(ctx, unit)
    else:
        ctx.finish()


@flow.step("surveyed", text=True)
async def surveyed(ctx: Context, answer: Answer) -> None:
    found = _NUMBER.match(answer.text or "")
    number = int(found.group(1)) if found else None
    if number is None or number > SURVEY_MAX:
        ctx.say(ctx.t("r11.not_a_number", text=answer.text or ""))
        ctx.repeat_question()
        return
    ctx.ask(
        flow("survey_note"),
        ctx.t("r11.ask_survey_note"),
        [("skip", ctx.t("r11.skip"))],
        data={"surveyed": number},
    )


@flow.step("survey_note", text=True)
async def survey_note(ctx: Context, answer: Answer) -> None:
    note = _words(answer)
    if _too_long(ctx, note, NOTE_MAX):
        return
    unit = await _unit(ctx)
    if unit is None or unit.id is None:
        return
    plan = await ctx.uow.recruits.plan_for_update(unit.id, today(ctx).year)
    plan.surveyed, plan.survey_note = int(ctx.data["surveyed"]), note
    await ctx.uow.recruits.save_plan(plan)
    ctx.audit("recruit_plan.surveyed", "unit", unit.id, year=plan.year, surveyed=plan.surveyed)
    await show_plan(ctx, unit, ctx.t("r11.plan_saved"))


@flow.step("activities", text=True)
async def activities(ctx: Context, answer: Answer) -> None:
    words = _words(answer)
    if not words:
        ctx.say(ctx.t("input.empty"))
        ctx.repeat_question()
        return
    if _too_long(ctx, words, NOTE_MAX):
        return
    unit = await _unit(ctx)
    if unit is None or unit.id is None:
        return
    plan = await ctx.uow.recruits.plan_for_update(unit.id, today(ctx).year)
    plan.activities, plan.planned_at, plan.planned_by_id = words, ctx.now, ctx.person_id
    await ctx.uow.recruits.save_plan(plan)
    ctx.audit("recruit_plan.planned", "unit", unit.id, year=plan.year)
    await show_plan(ctx, unit, ctx.t("r11.plan_saved"))


def _too_long(ctx: Context, words: str | None, limit: int) -> bool:
    """Say so and ask again when ``words`` are over ``limit``; the answer is kept out."""
    if words is None or len(words) <= limit:
        return False
    ctx.say(ctx.t("r11.too_long", max=limit))
    ctx.repeat_question()
    return True


def _words(answer: Answer) -> str | None:
    if answer.key == "skip":
        return None
    return " ".join((answer.text or "").split()) or None


def suggested_grade(figures: dict[str, Any]) -> str:
    """What the numbers alone would say: the target met, something done, or nothing."""
    if figures["target"] and figures["took_part"] >= figures["target"]:
        return "good"
    return "done" if figures["took_part"] > 0 else "not_done"


async def _ask_grade(ctx: Context, unit: Unit) -> None:
    assert unit.id is not None
    year = evaluation_year(today(ctx))
    if year is None:
        ctx.finish()
        ctx.say(ctx.t("r11.plan_evaluation_later", year=today(ctx).year))
        return
    figures = await branch_figures(ctx.uow, unit, year, ctx.settings)
    earlier = await ctx.uow.recruits.plan(unit.id, year)
    text = ctx.t(
        "r11.ask_grade",
        year=year,
        suggestion=ctx.t(GRADES[suggested_grade(figures)]),
        **{k: figures[k] for k in _FIGURES_SHOWN},
    )
    if earlier is not None and earlier.evaluated_at is not None:
        text += "\n" + ctx.t(
            "r11.evaluated_before", date=format_date(earlier.evaluated_at, ctx.settings.tz)
        )
    ctx.ask(
        flow("grade"),
        text,
        [(key, ctx.t(label)) for key, label in GRADES.items()],
        data={"year": year},
    )


_FIGURES_SHOWN = (
    "took_part",
    "target",
    "reached",
    "members",
    "joined_union",
    "joined_federation",
    "declined",
)


@flow.step("grade")
async def grade_given(ctx: Context, answer: Answer) -> None:
    if answer.key not in GRADES:
        ctx.repeat_question()
        return
    ctx.ask(
        flow("evaluation"),
        ctx.t("r11.ask_evaluation"),
        [("skip", ctx.t("r11.skip"))],
        data={"grade": answer.key},
    )


@flow.step("evaluation", text=True)
async def evaluation_given(ctx: Context, answer: Answer) -> None:
    words = _words(answer)
    if _too_long(ctx, words, EVALUATION_MAX):
        return
    unit = await _unit(ctx)
    if unit is None or unit.id is None:
        return
    year = int(ctx.data["year"])
    plan = await ctx.uow.recruits.plan_for_update(unit.id, year)
    plan.grade, plan.evaluation = str(ctx.data["grade"]), words
    # The numbers the grade was given on, as they were then: later changes do not move them.
    plan.figures = dict(await branch_figures(ctx.uow, unit, year, ctx.settings))
    plan.evaluated_at, plan.evaluated_by_id = ctx.now, ctx.person_id
    await ctx.uow.recruits.save_plan(plan)
    ctx.audit("recruit_plan.evaluated", "unit", unit.id, year=year, grade=plan.grade)
    await show_plan(ctx, unit, ctx.t("r11.evaluation_saved", year=year))
