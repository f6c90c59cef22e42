"""Leaders and inspectors read a poll's results: a short text, charts and an Excel file.

Everyone sees the part of the unit tree they answer for: a poll of their own units in
full, a poll of an upper level only for their own unit. In an anonymous poll the
small-cell rule holds everywhere (text, charts, file); in a named poll the written
answers are listed with names for those who may read them.
"""

from __future__ import annotations

from datetime import timedelta

from bot.formatting import format_date
from bot.i18n import N_
from bot.messages import DOCUMENT, PHOTO, Outgoing
from handlers.base import Answer, Context, Flow, action, command
from handlers.polls.results import PollResults, build_results, results_text
from handlers.polls.words import top_terms
from storage.models import LEADER_ROLES, MIN_CELL, Poll, QuestionKind, Role, Unit
from storage.poll_results import load_counts, load_raw_answers, load_texts

view = Flow("pollview")
READER_ROLES = LEADER_ROLES | {Role.INSPECTOR}
POLLS_LISTED = 10
STATUS_LABELS = {
    "scheduled": N_("pollview.status_scheduled"),
    "open": N_("pollview.status_open"),
    "closed": N_("pollview.status_closed"),
}
CHARTS_MAX = 4  # images per request: enough for a phone, not a flood
NAMED_TEXTS_MAX = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def reader_units(ctx: Context) -> list[Unit]:
    """Units where this person leads or inspects."""
    assert ctx.person is not None and ctx.person.id is not None
    seen: dict[int, Unit] = {}
    for membership, unit in await ctx.uow.people.memberships(ctx.person.id):
        if membership.role in READER_ROLES and unit.id is not None:
            seen[unit.id] = unit
    return list(seen.values())


async def viewing_unit(ctx: Context, poll: Poll) -> Unit | None:
    """The widest unit whose view of ``poll`` this person may read, or None."""
    owner = await ctx.uow.units.get(poll.unit_id)
    assert owner is not None
    best: Unit | None = None
    for unit in await reader_units(ctx):
        if owner.path.startswith(unit.path):
            return owner  # the poll belongs to a unit they answer for: all of it
        if unit.path.startswith(owner.path) and (best is None or len(unit.path) < len(best.path)):
            best = unit  # a poll from above: their own part of it
    return best


@command(
    "ketquakhaosat",
    N_("cmd.poll_results"),
    roles=READER_ROLES,
    menu=True,
    aliases=("ket qua khao sat",),
    order=34,
)
async def results_command(ctx: Context, _: str) -> None:
    ctx.finish()
    paths = [u.path for u in await reader_units(ctx)]
    owned = list(await ctx.uow.polls.in_units(paths))
    above = [p for p in await ctx.uow.polls.above_units(paths) if p not in owned]
    polls = sorted([*owned, *above], key=lambda p: p.opens_at, reverse=True)[:POLLS_LISTED]
    if not polls:
        ctx.say(ctx.t("pollview.none"))
        return
    tz = ctx.settings.tz
    ctx.ask(
        view("pick"),
        ctx.t("pollview.pick"),
        [
            (
                str(p.id),
                ctx.t(
                    "pollview.line",
                    title=_short(p.title),
                    status=ctx.t(STATUS_LABELS.get(p.status, "pollview.status_open")),
                    until=format_date(p.closes_at, tz),
                ),
            )
            for p in polls
        ],
    )


@view.step("pick")
async def picked(ctx: Context, answer: Answer) -> None:
    ctx.finish()
    await show_results(ctx, [answer.key or ""])


@view.step("after")
async def after(ctx: Context, answer: Answer) -> None:
    poll_id = str(ctx.data.get("poll", ""))
    ctx.finish()
    if answer.key == "xls":
        await send_workbook(ctx, [poll_id])


def _short(title: str) -> str:
    return title if len(title) <= 40 else title[:39] + "…"


async def _poll_for(ctx: Context, args: list[str]) -> tuple[Poll, Unit] | None:
    poll = await ctx.uow.polls.get(int(args[0])) if args and args[0].isdigit() else None
    unit = await viewing_unit(ctx, poll) if poll is not None else None
    if poll is None or unit is None:
        ctx.answer_button(ctx.t("command.not_allowed"))
        ctx.say(ctx.t("command.not_allowed"))
        return None
    ctx.answer_button()
    return poll, unit


async def load_results(ctx: Context, poll: Poll, unit: Unit) -> PollResults:
    assert poll.id is not None
    questions = await ctx.uow.polls.questions(poll.id)
    subtree = list(await ctx.uow.units.subtree(unit))
    counts = await load_counts(ctx.uow.session, poll.id)
    return build_results(poll, questions, subtree, counts, tz=ctx.settings.tz)


async def common_terms(ctx: Context, poll: Poll, results: PollResults) -> dict[int, list]:
    """The most used words of each free-text question, from the viewer's units only."""
    inside = {u.id for u in await ctx.uow.units.subtree(results.unit)}
    terms: dict[int, list] = {}
    for result in results.questions:
        question = result.question
        if question.kind != QuestionKind.TEXT or question.id is None:
            continue
        texts = [
            a.text for a in await load_texts(ctx.uow.session, question.id) if a.unit_id in inside
        ]
        terms[question.id] = top_terms(texts, min_count=MIN_CELL if poll.anonymous else 1)
    return terms


@action("pollres")
async def show_results(ctx: Context, args: list[str]) -> None:
    found = await _poll_for(ctx, args)
    if found is None:
        return
    poll, unit = found
    results = await load_results(ctx, poll, unit)
    ctx.say(results_text(results, ctx.t, await common_terms(ctx, poll, results)))
    await _charts(ctx, poll, results)
    if not poll.anonymous:
        await _named_texts(ctx, poll, results)
    ctx.ask(
        view("after"),
        ctx.t("pollview.more"),
        [("xls", ctx.t("pollview.excel")), ("close", ctx.t("common.close"))],
        data={"poll": poll.id},
    )


async def _charts(ctx: Context, poll: Poll, results: PollResults) -> None:
    # matplotlib is imported only when a chart is drawn: the bot starts a second faster.
    from handlers.polls.chart import question_chart

    shown = 0
    for result in results.questions:
        if shown >= CHARTS_MAX:
            break
        subtitle = ctx.t("pollview.chart_subtitle", unit=results.unit.name, n=result.respondents)
        png = question_chart(result, ctx.t, subtitle)
        if png is None:
            continue
        token = await ctx.uow.media.put(
            png,
            "image/png",
            now=ctx.now,
            ttl=timedelta(hours=ctx.settings.media_link_hours),
            name=f"khao-sat-{poll.id}-cau-{result.question.position}.png",
        )
        ctx.outputs.append(
            Outgoing(
                kind="send",
                chat_id=ctx.incoming.chat_id,
                text=ctx.t("pollview.chart_caption", n=result.question.position),
                media_token=token,
                media_kind=PHOTO,
                locale=ctx.t.locale,
            )
        )
        shown += 1


async def _named_texts(ctx: Context, poll: Poll, results: PollResults) -> None:
    """In a named poll, the written answers with the names (the viewer's units only)."""
    inside = {u.id: u.name for u in await ctx.uow.units.subtree(results.unit)}
    for result in results.questions:
        question = result.question
        if question.id is None or not (question.kind == QuestionKind.TEXT or question.allow_other):
            continue
        answers = [a for a in await load_texts(ctx.uow.session, question.id) if a.unit_id in inside]
        if not answers:
            continue
        people = await ctx.uow.people.names([a.person_id for a in answers if a.person_id])
        lines = [
            ctx.t(
                "pollview.named_text",
                name=people.get(a.person_id or 0) or "-",
                unit=inside[a.unit_id],
                text=a.text,
            )
            for a in answers[:NAMED_TEXTS_MAX]
        ]
        more = len(answers) - NAMED_TEXTS_MAX
        if more > 0:
            lines.append(ctx.t("pollview.more_texts", n=more))
        ctx.say(ctx.t("pollview.named_texts", n=question.position, texts="\n".join(lines)))


@action("pollxls")
async def send_workbook(ctx: Context, args: list[str]) -> None:
    found = await _poll_for(ctx, args)
    if found is None:
        return
    poll, unit = found
    results = await load_results(ctx, poll, unit)
    raw = None if poll.anonymous else await load_raw_answers(ctx.uow.session, poll)
    if raw is not None:
        inside = {u.id for u in await ctx.uow.units.subtree(unit)}
        raw = [r for r in raw if r.unit_id in inside]
    terms = await common_terms(ctx, poll, results)
    from handlers.polls.export import poll_workbook  # openpyxl only when a file is asked

    data = poll_workbook(results, list(results.questions), raw, ctx.t, terms=terms)
    name = f"khao-sat-{poll.id}.xlsx"
    token = await ctx.uow.media.put(
        data, XLSX, now=ctx.now, ttl=timedelta(hours=ctx.settings.media_link_hours), name=name
    )
    ctx.outputs.append(
        Outgoing(
            kind="send",
            chat_id=ctx.incoming.chat_id,
            text=ctx.t("pollview.excel_caption", title=poll.title, unit=unit.name),
            media_token=token,
            media_kind=DOCUMENT,
            media_name=name,
            locale=ctx.t.locale,
        )
    )
    ctx.audit("poll.exported", "poll", poll.id, unit=unit.code)
