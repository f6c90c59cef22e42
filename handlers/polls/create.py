"""A secretary (for their branch) or a standing committee (for any unit under them) makes a poll.

Step by step: unit → title → questions (kind, text, options, "other") → anonymous or
named → who is asked → deadline → whether respondents see the results → preview
→ send. The draft lives in the conversation row, so nothing is stored until "Gửi";
the scheduler then sends it out (after quiet hours) within a tick.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from bot.formatting import format_datetime
from bot.i18n import N_
from handlers.base import Answer, Context, Flow, command
from handlers.polls.answer import PRIVACY_NOTES
from handlers.polls.service import PollRefused, store_poll
from handlers.polls.spec import (
    OPTION_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    QUESTION_MAX,
    QUESTIONS_MAX,
    TITLE_MAX,
    PollSpec,
    QuestionSpec,
    parse_deadline,
)
from handlers.roles import led_units
from storage.models import LEADER_ROLES, QuestionKind, Role, Unit

new_poll = Flow("newpoll")
KIND_LABELS = {
    QuestionKind.SINGLE.value: N_("newpoll.kind_single"),
    QuestionKind.MULTI.value: N_("newpoll.kind_multi"),
    QuestionKind.SCALE.value: N_("newpoll.kind_scale"),
    QuestionKind.TEXT.value: N_("newpoll.kind_text"),
}
RESULTS_LABELS = {True: N_("newpoll.results_yes"), False: N_("newpoll.results_no")}
MAX_DAYS = 90  # a poll left open for months is a poll nobody remembers
MIN_MINUTES = 60
CHILD_UNITS_SHOWN = 8
_OPTION_SPLIT = re.compile(r"\s*(?:\n|;)\s*")


@command(
    "taokhaosat",
    N_("cmd.new_poll"),
    roles=LEADER_ROLES,
    menu=True,
    order=32,
    aliases=("tao khao sat",),
)
async def new_poll_command(ctx: Context, _: str) -> None:
    units = await led_units(ctx)
    if len(units) == 1:
        await _ask_title(ctx, units[0])
        return
    ctx.ask(new_poll("unit"), ctx.t("newpoll.which_unit"), [(str(u.id), u.name) for u in units])


@new_poll.step("unit")
async def unit_step(ctx: Context, answer: Answer) -> None:
    unit = {str(u.id): u for u in await led_units(ctx)}.get(answer.key or "")
    if unit is None:
        ctx.finish()
        ctx.say(ctx.t("command.not_allowed"))
        return
    await _ask_title(ctx, unit)


async def _ask_title(ctx: Context, unit: Unit) -> None:
    ctx.ask(
        new_poll("title"),
        ctx.t("newpoll.ask_title", unit=unit.name, max=TITLE_MAX),
        data={"unit": unit.id, "questions": []},
    )


def _too_long(ctx: Context, text: str, limit: int) -> bool:
    if len(text) <= limit:
        return False
    ctx.say(ctx.t("newpoll.too_long", max=limit, length=len(text)))
    ctx.repeat_question()
    return True


@new_poll.step("title", text=True)
async def title_step(ctx: Context, answer: Answer) -> None:
    title = " ".join((answer.text or "").split())
    if not title:
        ctx.repeat_question()
        return
    if _too_long(ctx, title, TITLE_MAX):
        return
    _ask_kind(ctx, {"title": title})


def _ask_kind(ctx: Context, data: dict[str, Any]) -> None:
    n = len(ctx.data.get("questions", [])) + 1
    ctx.ask(
        new_poll("kind"),
        ctx.t("newpoll.ask_kind", n=n),
        [(kind, ctx.t(label)) for kind, label in KIND_LABELS.items()],
        data=data,
    )


@new_poll.step("kind")
async def kind_step(ctx: Context, answer: Answer) -> None:
    if answer.key not in KIND_LABELS:
        ctx.repeat_question()
        return
    ctx.ask(
        new_poll("qtext"),
        ctx.t("newpoll.ask_question", max=QUESTION_MAX),
        data={"draft": {"kind": answer.key}},
    )


@new_poll.step("qtext", text=True)
async def question_text_step(ctx: Context, answer: Answer) -> None:
    text = " ".join((answer.text or "").split())
    if not text:
        ctx.repeat_question()
        return
    if _too_long(ctx, text, QUESTION_MAX):
        return
    draft = {**ctx.data["draft"], "text": text}
    if draft["kind"] in (QuestionKind.SINGLE, QuestionKind.MULTI):
        ctx.ask(
            new_poll("options"),
            ctx.t("newpoll.ask_options", low=OPTIONS_MIN, high=OPTIONS_MAX),
            data={"draft": draft},
        )
    else:
        await _add_question(ctx, {**draft, "options": [], "other": False})


@new_poll.step("options", text=True)
async def options_step(ctx: Context, answer: Answer) -> None:
    options = [o for o in _OPTION_SPLIT.split((answer.text or "").strip()) if o]
    options = [re.sub(r"^\s*(?:\d{1,2}[.)]|[-•*])\s*", "", o).strip() for o in options]
    options = [o for o in options if o]
    problem = None
    if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
        problem = ctx.t("newpoll.options_count", low=OPTIONS_MIN, high=OPTIONS_MAX, n=len(options))
    elif any(len(o) > OPTION_MAX for o in options):
        problem = ctx.t("newpoll.option_too_long", max=OPTION_MAX)
    elif len({o.casefold() for o in options}) != len(options):
        problem = ctx.t("newpoll.options_repeat")
    if problem:
        ctx.say(problem)
        ctx.repeat_question()
        return
    ctx.ask(
        new_poll("other"),
        ctx.t("newpoll.ask_other"),
        [("yes", ctx.t("newpoll.other_yes")), ("no", ctx.t("newpoll.other_no"))],
        data={"draft": {**ctx.data["draft"], "options": options}},
    )


@new_poll.step("other")
async def other_step(ctx: Context, answer: Answer) -> None:
    await _add_question(ctx, {**ctx.data["draft"], "other": answer.key == "yes"})


async def _add_question(ctx: Context, draft: dict[str, Any]) -> None:
    _show_questions(ctx, [*ctx.data.get("questions", []), draft])


def _show_questions(ctx: Context, questions: list[dict[str, Any]]) -> None:
    """The questions so far, and: add one, remove the last, or go on."""
    listing = "\n".join(_question_line(ctx, i, q) for i, q in enumerate(questions, start=1))
    choices = []
    if len(questions) < QUESTIONS_MAX:
        choices.append(("add", ctx.t("newpoll.add_question")))
    choices += [("undo", ctx.t("newpoll.remove_last")), ("next", ctx.t("newpoll.questions_done"))]
    ctx.ask(
        new_poll("more"),
        ctx.t("newpoll.questions_so_far", n=len(questions), questions=listing),
        choices,
        data={"questions": questions, "draft": None},
    )


def _question_line(ctx: Context, n: int, q: dict[str, Any]) -> str:
    kind = ctx.t(KIND_LABELS[q["kind"]])
    options = ", ".join(q.get("options", []))
    if q.get("other"):
        options += (", " if options else "") + ctx.t("polls.other")
    return f"{n}. {q['text']} ({kind}{': ' + options if options else ''})"


@new_poll.step("more")
async def more_step(ctx: Context, answer: Answer) -> None:
    questions = list(ctx.data.get("questions", []))
    if answer.key == "add":
        _ask_kind(ctx, {})
    elif answer.key == "undo":
        if len(questions) > 1:
            _show_questions(ctx, questions[:-1])
        else:
            _ask_kind(ctx, {"questions": []})
    else:
        ctx.ask(
            new_poll("anonymous"),
            ctx.t("newpoll.ask_anonymous"),
            [("anon", ctx.t("newpoll.anonymous")), ("named", ctx.t("newpoll.named"))],
        )


@new_poll.step("anonymous")
async def anonymous_step(ctx: Context, answer: Answer) -> None:
    unit = await ctx.uow.units.get(int(ctx.data["unit"]))
    assert unit is not None
    children = [u for u in await ctx.uow.units.subtree(unit) if u.parent_id == unit.id]
    data = {"anonymous": answer.key != "named"}
    if not children:
        _ask_roles(ctx, {**data, "units": [unit.code]})
        return
    choices = [("all", ctx.t("newpoll.whole_unit", unit=unit.name))]
    choices += [(u.code, u.name) for u in children[:CHILD_UNITS_SHOWN]]
    ctx.ask(new_poll("units"), ctx.t("newpoll.ask_units"), choices, data=data)


@new_poll.step("units")
async def units_step(ctx: Context, answer: Answer) -> None:
    unit = await ctx.uow.units.get(int(ctx.data["unit"]))
    assert unit is not None
    chosen = answer.key or "all"
    _ask_roles(ctx, {"units": [unit.code if chosen == "all" else chosen]})


def _ask_roles(ctx: Context, data: dict[str, Any]) -> None:
    ctx.ask(
        new_poll("roles"),
        ctx.t("newpoll.ask_roles"),
        [
            ("all", ctx.t("newpoll.roles_all")),
            ("members", ctx.t("newpoll.roles_members")),
            ("leaders", ctx.t("newpoll.roles_leaders")),
        ],
        data=data,
    )


ROLE_SETS = {
    "all": [],
    "members": [Role.MEMBER.value],
    "leaders": [Role.SECRETARY.value, Role.DEPUTY.value],
}


@new_poll.step("roles")
async def roles_step(ctx: Context, answer: Answer) -> None:
    roles = ROLE_SETS.get(answer.key or "all", [])
    example = format_datetime(ctx.now + timedelta(days=7), ctx.settings.tz)
    ctx.ask(
        new_poll("deadline"), ctx.t("newpoll.ask_deadline", example=example), data={"roles": roles}
    )


@new_poll.step("deadline", text=True)
async def deadline_step(ctx: Context, answer: Answer) -> None:
    closes = parse_deadline(answer.text or "", ctx.now, ctx.settings.tz)
    if closes is None:
        ctx.say(ctx.t("newpoll.deadline_not_understood"))
        ctx.repeat_question()
        return
    if closes < ctx.now + timedelta(minutes=MIN_MINUTES):
        ctx.say(ctx.t("newpoll.deadline_too_soon", minutes=MIN_MINUTES))
        ctx.repeat_question()
        return
    if closes > ctx.now + timedelta(days=MAX_DAYS):
        ctx.say(ctx.t("newpoll.deadline_too_far", days=MAX_DAYS))
        ctx.repeat_question()
        return
    ctx.ask(
        new_poll("results"),
        ctx.t("newpoll.ask_results"),
        [("yes", ctx.t(RESULTS_LABELS[True])), ("no", ctx.t(RESULTS_LABELS[False]))],
        data={"closes": closes.isoformat()},
    )


@new_poll.step("results")
async def results_step(ctx: Context, answer: Answer) -> None:
    ctx.data["show_results"] = answer.key == "yes"
    spec = await _spec(ctx)
    if spec is None:
        return
    count = await _audience_size(ctx, spec)
    questions = "\n".join(
        _question_line(ctx, i, q) for i, q in enumerate(ctx.data["questions"], start=1)
    )
    ctx.ask(
        new_poll("confirm"),
        ctx.t(
            "newpoll.preview",
            title=spec.title,
            questions=questions,
            privacy=ctx.t(PRIVACY_NOTES[spec.anonymous]),
            audience=count,
            until=format_datetime(spec.closes_at, ctx.settings.tz),
            results=ctx.t(RESULTS_LABELS[spec.show_results]),
        ),
        [("send", ctx.t("newpoll.send")), ("cancel", ctx.t("newpoll.cancel"))],
        data={"show_results": spec.show_results},
    )


async def _spec(ctx: Context) -> PollSpec | None:
    unit = await ctx.uow.units.get(int(ctx.data["unit"]))
    assert unit is not None
    try:
        return PollSpec(
            title=ctx.data["title"],
            unit=unit.code,
            units=ctx.data.get("units", []),
            roles=[Role(r) for r in ctx.data.get("roles", [])],
            closes_at=datetime.fromisoformat(ctx.data["closes"]),
            anonymous=bool(ctx.data.get("anonymous", True)),
            show_results=bool(ctx.data.get("show_results")),
            questions=[QuestionSpec(**q) for q in ctx.data["questions"]],
        )
    except (ValidationError, KeyError, ValueError):
        ctx.finish()
        ctx.say(ctx.t("newpoll.draft_broken"))
        return None


async def _audience_size(ctx: Context, spec: PollSpec) -> int:
    units = [await ctx.uow.units.by_code(code) for code in spec.units]
    size = await ctx.uow.polls.audience_size(
        [u for u in units if u is not None], [r.value for r in spec.roles]
    )
    return size.people


@new_poll.step("confirm")
async def confirm_step(ctx: Context, answer: Answer) -> None:
    if answer.key != "send":
        ctx.finish()
        ctx.say(ctx.t("newpoll.cancelled"))
        return
    spec = await _spec(ctx)
    if spec is None:
        return
    assert ctx.person is not None
    ctx.finish()
    try:
        poll = await store_poll(ctx.uow, spec, now=ctx.now, created_by=ctx.person.id)
    except PollRefused as refused:
        ctx.say(ctx.t(refused.key, **refused.params))
        return
    ctx.say(
        ctx.t(
            "newpoll.saved",
            title=poll.title,
            until=format_datetime(poll.closes_at, ctx.settings.tz),
        )
    )
