"""Members answer a poll, question by question, and may change answers until the deadline.

Telegram shows buttons (a multiple-choice question toggles "☐/☑" and ends with
"Xong"); Zalo shows numbered options and takes "2", "hai", the option's words, or
"1,3" / "1 3" for several. Each answer is stored as soon as it is given, so a crash
or a timeout loses at most the question being answered. In an anonymous poll every
message that repeats an answer is marked private: its text is wiped from the outbox
once sent.
"""

from __future__ import annotations

from bot.formatting import format_datetime
from bot.i18n import N_
from bot.matching import parse_multi_numbers
from bot.messages import Channel, Choice, Outgoing
from handlers.base import Answer, Context, Flow, action, command
from handlers.polls.spec import SCALE, TEXT_ANSWER_MAX
from storage.models import Poll, PollQuestion, PollRecipient, PollStatus, QuestionKind
from storage.polls import GivenAnswer

poll_flow = Flow("poll")
LABEL_MAX = 60  # a question shown as a menu line is cut to fit a phone screen
#: Said wherever a poll is offered, so nobody answers without knowing who will see it.
PRIVACY_NOTES = {True: N_("polls.anonymous_note"), False: N_("polls.named_note")}


def deadline(ctx: Context, poll: Poll) -> str:
    return format_datetime(poll.closes_at, ctx.settings.tz)


def is_open(ctx: Context, poll: Poll) -> bool:
    return poll.status == PollStatus.OPEN and poll.closes_at > ctx.now


def other_number(question: PollQuestion) -> int:
    return len(question.options) + 1


def answer_label(ctx: Context, question: PollQuestion, given: GivenAnswer) -> str:
    """An answer in words: "Việc làm, Nhà ở", "4/5", or the typed text."""
    if question.kind == QuestionKind.TEXT:
        return given.text or ctx.t("polls.skipped")
    if question.kind == QuestionKind.SCALE:
        return f"{given.options[0]}/5" if given.options else ctx.t("polls.skipped")
    words = [question.options[o - 1] for o in given.options if 1 <= o <= len(question.options)]
    if given.text and question.allow_other:
        words.append(ctx.t("polls.other_said", text=given.text))
    return ", ".join(words) or ctx.t("polls.skipped")


def _has_buttons(ctx: Context) -> bool:
    """Telegram shows buttons; Zalo only numbered text."""
    return ctx.incoming.channel == Channel.TELEGRAM


def _private(ctx: Context, poll: Poll) -> None:
    """Messages that repeat an anonymous answer are wiped from the outbox once sent."""
    if poll.anonymous:
        for out in ctx.outputs:
            out.private = True


# --- entry points ------------------------------------------------------------------------


@command(
    "khaosat",
    N_("cmd.polls"),
    menu=True,
    aliases=("khao sat", "tra loi khao sat", "khaosat", "phieu khao sat"),
    order=30,
)
async def polls_command(ctx: Context, _: str) -> None:
    assert ctx.person is not None and ctx.person.id is not None
    ctx.finish()
    polls = await ctx.uow.polls.open_for(ctx.person.id, ctx.now)
    if not polls:
        ctx.say(ctx.t("polls.none_open"))
        return
    if len(polls) == 1:
        await start(ctx, polls[0])
        return
    ctx.ask(
        poll_flow("pick"),
        ctx.t("polls.which"),
        [
            (str(p.id), ctx.t("polls.pick_line", title=p.title, until=deadline(ctx, p)))
            for p in polls
        ],
    )


@poll_flow.step("pick")
async def picked(ctx: Context, answer: Answer) -> None:
    key = answer.key or ""
    poll = await ctx.uow.polls.get(int(key)) if key.isdigit() else None
    if poll is None:
        ctx.finish()
        ctx.say(ctx.t("polls.not_for_you"))
        return
    await start(ctx, poll)


@action("poll")
async def poll_button(ctx: Context, args: list[str]) -> None:
    """ "▶ Trả lời ngay" on the message that announced the poll, or on a nudge."""
    poll = await ctx.uow.polls.get(int(args[0])) if args and args[0].isdigit() else None
    if poll is None or not is_open(ctx, poll):
        ctx.answer_button(ctx.t("polls.closed_short"))
        if poll is not None:
            ctx.say(ctx.t("polls.closed", title=poll.title, until=deadline(ctx, poll)))
        return
    ctx.answer_button()
    await start(ctx, poll)


async def offer_open_polls(ctx: Context) -> None:
    """After joining: polls already open for this person's units are offered at once."""
    assert ctx.person is not None and ctx.person.id is not None
    for poll in await ctx.uow.polls.adopt(ctx.person.id, ctx.now):
        note = PRIVACY_NOTES[poll.anonymous]
        ctx.outputs.append(
            Outgoing(
                kind="send",
                chat_id=ctx.incoming.chat_id,
                text=ctx.t(
                    "polls.invitation",
                    title=poll.title,
                    until=deadline(ctx, poll),
                    privacy=ctx.t(note),
                ),
                choices=[Choice(f"!poll:{poll.id}", ctx.t("polls.answer_now"))],
                hint=ctx.t("polls.answer_hint"),
            )
        )


async def start(ctx: Context, poll: Poll) -> None:
    """Begin (or resume, or review) this person's answers to ``poll``."""
    recipient = await _recipient(ctx, poll)
    if recipient is None:
        ctx.finish()
        ctx.say(ctx.t("polls.not_for_you"))
        return
    if not is_open(ctx, poll):
        ctx.finish()
        ctx.say(ctx.t("polls.closed", title=poll.title, until=deadline(ctx, poll)))
        return
    assert poll.id is not None
    questions = await ctx.uow.polls.questions(poll.id)
    given = await ctx.uow.polls.answers_of(
        poll, recipient.person_id, secret=ctx.settings.poll_secret
    )
    if recipient.answered:
        await _review(ctx, poll, questions, given)
    else:
        first = next((q for q in questions if q.id not in given), questions[0])
        note = PRIVACY_NOTES[poll.anonymous]
        ctx.say(
            ctx.t(
                "polls.intro",
                title=poll.title,
                intro=poll.intro or "",
                count=len(questions),
                until=deadline(ctx, poll),
                privacy=ctx.t(note),
            ).replace("\n\n\n", "\n\n")
        )
        await _ask(ctx, poll, first, len(questions), given.get(first.id or 0), review=False)
    _private(ctx, poll)


async def _recipient(ctx: Context, poll: Poll) -> PollRecipient | None:
    assert ctx.person is not None and ctx.person.id is not None and poll.id is not None
    return await ctx.uow.polls.recipient(poll.id, ctx.person.id)


# --- asking --------------------------------------------------------------------------


async def _ask(
    ctx: Context,
    poll: Poll,
    question: PollQuestion,
    total: int,
    current: GivenAnswer | None,
    *,
    review: bool,
    picks: list[int] | None = None,
    in_place: bool = False,
) -> None:
    head = ctx.t("polls.question", n=question.position, total=total, text=question.text)
    if current is not None:
        head += "\n" + ctx.t("polls.current", answer=answer_label(ctx, question, current))
    data = {"poll": poll.id, "q": question.id, "review": review}
    extra: list[tuple[str, str]] = []
    if current is not None:
        extra.append(("keep", ctx.t("polls.keep")))
    elif not question.required:
        extra.append(("skip", ctx.t("polls.skip")))
    kind = question.kind
    if kind == QuestionKind.SINGLE:
        choices = [(str(i), label) for i, label in enumerate(question.options, start=1)]
        if question.allow_other:
            choices.append(("other", ctx.t("polls.other")))
        ctx.ask(poll_flow("choice"), head, choices + extra, data=data)
    elif kind == QuestionKind.SCALE:
        text = head + "\n" + ctx.t("polls.scale_hint")
        ctx.ask(poll_flow("choice"), text, [(str(i), str(i)) for i in SCALE] + extra, data=data)
    elif kind == QuestionKind.MULTI:
        chosen = picks if picks is not None else list(current.options if current else ())
        if _has_buttons(ctx):  # toggles, then "Xong"
            marks = [
                (f"t{i}", ("☑ " if i in chosen else "☐ ") + label)
                for i, label in enumerate(question.options, start=1)
            ]
            done = [("done", ctx.t("polls.done"))]
            hint = ctx.t("polls.multi_hint_buttons")
        else:  # one typed answer: "1,3" or "1 3"
            marks = [(f"t{i}", label) for i, label in enumerate(question.options, start=1)]
            done = []
            hint = ctx.t("polls.multi_hint_typed")
        if question.allow_other:
            marks.append(("other", ctx.t("polls.other")))
        ask = ctx.ask_in_place if in_place else ctx.ask
        ask(
            poll_flow("multi"),
            f"{head}\n{hint}",
            marks + done + extra,
            data={**data, "picks": chosen},
        )
    else:
        text = head + "\n" + ctx.t("polls.text_hint", max=TEXT_ANSWER_MAX)
        ctx.ask(poll_flow("text"), text, extra, data=data)


async def _context(
    ctx: Context,
) -> tuple[Poll, PollQuestion, PollRecipient, list[PollQuestion]] | None:
    """The poll and question the open step is about; None (after saying why) if closed."""
    poll = await ctx.uow.polls.get(int(ctx.data.get("poll") or 0))
    recipient = await _recipient(ctx, poll) if poll is not None else None
    if poll is None or recipient is None:
        ctx.finish()
        ctx.say(ctx.t("polls.not_for_you"))
        return None
    if not is_open(ctx, poll):
        ctx.finish()
        ctx.say(ctx.t("polls.closed", title=poll.title, until=deadline(ctx, poll)))
        return None
    assert poll.id is not None
    questions = await ctx.uow.polls.questions(poll.id)
    question = next((q for q in questions if q.id == ctx.data.get("q")), None)
    if question is None:
        ctx.finish()
        ctx.say(ctx.t("polls.not_for_you"))
        return None
    return poll, question, recipient, questions


# --- answering -----------------------------------------------------------------------


@poll_flow.step("choice")
async def choice_step(ctx: Context, answer: Answer) -> None:
    found = await _context(ctx)
    if found is None:
        return
    poll, question, recipient, questions = found
    key = answer.key or ""
    if key == "other":
        ctx.ask(poll_flow("other"), ctx.t("polls.ask_other"), data={"picks": []})
    elif key in ("keep", "skip"):
        if key == "skip":
            await _save(ctx, poll, question, recipient, [], None)
        await _next(ctx, poll, question, recipient, questions)
    elif key.isdigit():
        await _save(ctx, poll, question, recipient, [int(key)], None)
        await _next(ctx, poll, question, recipient, questions)
    _private(ctx, poll)


@poll_flow.step("multi", text=True, edits_itself=True)
async def multi_step(ctx: Context, answer: Answer) -> None:
    found = await _context(ctx)
    if found is None:
        return
    poll, question, recipient, questions = found
    picks = [int(p) for p in ctx.data.get("picks", [])]
    key = answer.key or ""
    total = len(questions)
    if key.startswith("t") and key[1:].isdigit() and ctx.incoming.callback_data is None:
        await _save(ctx, poll, question, recipient, [int(key[1:])], None)  # typed "2"
        await _next(ctx, poll, question, recipient, questions)
    elif key.startswith("t") and key[1:].isdigit():
        number = int(key[1:])
        picks = [p for p in picks if p != number] if number in picks else sorted([*picks, number])
        await _ask(
            ctx,
            poll,
            question,
            total,
            None,
            review=ctx.data.get("review", False),
            picks=picks,
            in_place=True,
        )
    elif key == "other":
        ctx.show_choice(_labels(question, picks, ctx.t("polls.other")))
        ctx.ask(poll_flow("other"), ctx.t("polls.ask_other"), data={"picks": picks})
    elif key == "done":
        if not picks and question.required:
            ctx.answer_button(ctx.t("polls.pick_one"))
            ctx.say(ctx.t("polls.pick_one"))
            await _ask(
                ctx, poll, question, total, None, review=ctx.data.get("review", False), picks=picks
            )
        else:
            ctx.show_choice(_labels(question, picks, ""))
            await _save(ctx, poll, question, recipient, picks, None)
            await _next(ctx, poll, question, recipient, questions)
    elif key in ("keep", "skip"):
        ctx.show_choice(ctx.t("polls.keep") if key == "keep" else ctx.t("polls.skip"))
        if key == "skip":
            await _save(ctx, poll, question, recipient, [], None)
        await _next(ctx, poll, question, recipient, questions)
    else:
        typed = parse_multi_numbers(answer.text or "", len(question.options))
        if typed is None:
            ctx.say(ctx.t("polls.multi_not_understood", n=len(question.options)))
            ctx.repeat_question()
        else:
            await _save(ctx, poll, question, recipient, typed, None)
            await _next(ctx, poll, question, recipient, questions)
    _private(ctx, poll)


def _labels(question: PollQuestion, picks: list[int], extra: str) -> str:
    words = [question.options[p - 1] for p in picks if 1 <= p <= len(question.options)]
    return ", ".join([*words, extra] if extra else words)


@poll_flow.step("other", text=True)
async def other_step(ctx: Context, answer: Answer) -> None:
    found = await _context(ctx)
    if found is None:
        return
    poll, question, recipient, questions = found
    text = " ".join((answer.text or "").split())
    if not text:
        ctx.repeat_question()
    elif len(text) > TEXT_ANSWER_MAX:
        ctx.say(ctx.t("polls.too_long", max=TEXT_ANSWER_MAX, length=len(text)))
        ctx.repeat_question()
    else:
        picks = [int(p) for p in ctx.data.get("picks", [])]
        await _save(ctx, poll, question, recipient, [*picks, other_number(question)], text)
        await _next(ctx, poll, question, recipient, questions)
    _private(ctx, poll)


@poll_flow.step("text", text=True)
async def text_step(ctx: Context, answer: Answer) -> None:
    found = await _context(ctx)
    if found is None:
        return
    poll, question, recipient, questions = found
    if answer.key in ("keep", "skip"):
        if answer.key == "skip":
            await _save(ctx, poll, question, recipient, [], None)
        await _next(ctx, poll, question, recipient, questions)
        _private(ctx, poll)
        return
    text = (answer.text or "").strip()
    if len(text) > TEXT_ANSWER_MAX:
        ctx.say(ctx.t("polls.too_long", max=TEXT_ANSWER_MAX, length=len(text)))
        ctx.repeat_question()
    else:
        await _save(ctx, poll, question, recipient, [], text)
        await _next(ctx, poll, question, recipient, questions)
    _private(ctx, poll)


async def _save(
    ctx: Context,
    poll: Poll,
    question: PollQuestion,
    recipient: PollRecipient,
    options: list[int],
    text: str | None,
) -> None:
    await ctx.uow.polls.save_answer(
        poll, question, recipient, options, text, secret=ctx.settings.poll_secret, now=ctx.now
    )


async def _next(
    ctx: Context,
    poll: Poll,
    question: PollQuestion,
    recipient: PollRecipient,
    questions: list[PollQuestion],
) -> None:
    """The next unanswered question, the review menu, or thanks when all are done."""
    given = await ctx.uow.polls.answers_of(
        poll, recipient.person_id, secret=ctx.settings.poll_secret
    )
    complete = all(q.id in given for q in questions if q.required)
    await ctx.uow.polls.set_answered(recipient, complete)
    if ctx.data.get("review"):
        await _review(ctx, poll, questions, given)
        return
    later = [q for q in questions if q.position > question.position and q.id not in given]
    if later:
        await _ask(ctx, poll, later[0], len(questions), None, review=False)
        return
    missing = [q for q in questions if q.id not in given and q.required]
    if missing:
        await _ask(ctx, poll, missing[0], len(questions), None, review=False)
        return
    ctx.finish()
    ctx.say(ctx.t("polls.thanks", title=poll.title, until=deadline(ctx, poll)))


# --- changing answers ------------------------------------------------------------------


async def _review(
    ctx: Context, poll: Poll, questions: list[PollQuestion], given: dict[int, GivenAnswer]
) -> None:
    lines = []
    choices = []
    for q in questions:
        current = given.get(q.id or 0)
        shown = answer_label(ctx, q, current) if current else ctx.t("polls.not_answered")
        lines.append(ctx.t("polls.review_line", n=q.position, text=_cut(q.text), answer=shown))
        choices.append((str(q.id), ctx.t("polls.change_question", n=q.position)))
    choices.append(("done", ctx.t("polls.review_done")))
    ctx.ask(
        poll_flow("review"),
        ctx.t(
            "polls.review", title=poll.title, until=deadline(ctx, poll), answers="\n".join(lines)
        ),
        choices,
        data={"poll": poll.id, "review": True},
    )


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1].rstrip() + "…"


@poll_flow.step("review")
async def review_step(ctx: Context, answer: Answer) -> None:
    poll = await ctx.uow.polls.get(int(ctx.data.get("poll") or 0))
    if poll is None:
        ctx.finish()
        return
    if answer.key == "done":
        ctx.finish()
        ctx.say(ctx.t("polls.saved", until=deadline(ctx, poll)))
        _private(ctx, poll)
        return
    if poll is None or not is_open(ctx, poll):
        ctx.finish()
        ctx.say(ctx.t("polls.closed", title=poll.title, until=deadline(ctx, poll)))
        return
    recipient = await _recipient(ctx, poll)
    assert poll.id is not None and recipient is not None
    questions = await ctx.uow.polls.questions(poll.id)
    question = next((q for q in questions if str(q.id) == answer.key), None)
    if question is None:
        ctx.repeat_question()
        return
    given = await ctx.uow.polls.answers_of(
        poll, recipient.person_id, secret=ctx.settings.poll_secret
    )
    await _ask(ctx, poll, question, len(questions), given.get(question.id or 0), review=True)
    _private(ctx, poll)
