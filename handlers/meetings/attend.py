"""Members answer "will you come?" and check in; the secretary opens check-in and marks people."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.i18n import N_
from handlers.base import Answer, Context, Flow, action, command
from handlers.meetings.common import describe, when
from handlers.meetings.summary import summary_text
from handlers.menu import show_menu
from handlers.notify import notify
from handlers.roles import led_units, member_units
from storage.models import LEADER_ROLES, Meeting
from storage.outbox import INTERACTIVE

attend = Flow("attend")
RSVP_LABELS = {"yes": N_("rsvp.yes"), "no": N_("rsvp.no"), "maybe": N_("rsvp.maybe")}
CHECKIN_WINDOW_HOURS = 6
REASON_MAX = 200


def rsvp_choices(meeting_id: int) -> list[tuple[str, str]]:
    """Buttons for a reminder: actions that work whatever conversation is open."""
    return [(f"!rsvp:{meeting_id}:{answer}", label) for answer, label in RSVP_LABELS.items()]


async def _next_meeting(ctx: Context) -> Meeting | None:
    """The person's next meeting across their branches (or one under way)."""
    found: list[Meeting] = []
    for unit in await member_units(ctx):
        assert unit.id is not None
        found += await ctx.uow.meetings.upcoming(unit.id, ctx.now - timedelta(hours=2), limit=1)
    return min(found, key=lambda m: m.starts_at) if found else None


async def _record_rsvp(ctx: Context, meeting: Meeting, answer: str, reason: str | None) -> None:
    assert ctx.person is not None and ctx.person.id is not None and meeting.id is not None
    await ctx.uow.meetings.set_rsvp(meeting.id, ctx.person.id, answer, reason, ctx.now)
    ctx.say(ctx.t("rsvp.saved", answer=ctx.t(RSVP_LABELS[answer]), when=when(ctx, meeting)))


@action("rsvp")
async def rsvp_button(ctx: Context, args: list[str]) -> None:
    meeting = await ctx.uow.meetings.get(int(args[0])) if args and args[0].isdigit() else None
    answer = args[1] if len(args) > 1 else ""
    if meeting is None or answer not in RSVP_LABELS or meeting.starts_at <= ctx.now:
        ctx.answer_button(ctx.t("rsvp.closed"))
        return
    ctx.answer_button()
    ctx.show_choice(ctx.t(RSVP_LABELS[answer]))
    await _rsvp(ctx, meeting, answer, None)


async def _rsvp(ctx: Context, meeting: Meeting, answer: str, reason: str | None) -> None:
    if answer == "no" and not reason:
        ctx.ask(
            attend("reason"),
            ctx.t("rsvp.ask_reason"),
            [("skip", ctx.t("common.skip"))],
            data={"meeting": meeting.id},
        )
        return
    await _record_rsvp(ctx, meeting, answer, reason)


@attend.step("reason", text=True)
async def reason_given(ctx: Context, answer: Answer) -> None:
    meeting = await ctx.uow.meetings.get(ctx.data["meeting"])
    ctx.finish()
    if meeting is None:
        return
    reason = None if answer.key == "skip" else " ".join((answer.text or "").split())[:REASON_MAX]
    await _record_rsvp(ctx, meeting, "no", reason)


async def _rsvp_by_words(ctx: Context, answer: str, reason: str) -> None:
    meeting = await _next_meeting(ctx)
    if meeting is None:
        ctx.say(ctx.t("rsvp.no_meeting"))
        return
    await _rsvp(ctx, meeting, answer, reason[:REASON_MAX] or None)


@command(
    "thamgia", N_("cmd.rsvp_yes"), aliases=("tham gia", "se tham gia", "co tham gia"), public=False
)
async def rsvp_yes(ctx: Context, reason: str) -> None:
    await _rsvp_by_words(ctx, "yes", "")


@command(
    "vang",
    N_("cmd.rsvp_no"),
    aliases=("vang", "vang mat", "xin vang"),
    public=False,
    takes_text=True,
)
async def rsvp_no(ctx: Context, reason: str) -> None:
    await _rsvp_by_words(ctx, "no", reason)


@command("chuachac", N_("cmd.rsvp_maybe"), aliases=("chua chac",), public=False)
async def rsvp_maybe(ctx: Context, reason: str) -> None:
    await _rsvp_by_words(ctx, "maybe", "")


# --- check-in -----------------------------------------------------------------


async def _open_checkins(ctx: Context) -> list[Meeting]:
    found = []
    for unit in await member_units(ctx):
        assert unit.id is not None
        meeting = await ctx.uow.meetings.recent_for_unit(unit.id, ctx.now, CHECKIN_WINDOW_HOURS)
        if meeting and meeting.checkin_code and meeting.checkin_closed_at is None:
            found.append(meeting)
    return found


@command("comat", N_("cmd.checkin"), aliases=("co mat", "diem danh"), public=False, takes_text=True)
async def check_in_command(ctx: Context, code: str) -> None:
    meetings = await _open_checkins(ctx)
    if not meetings:
        ctx.say(ctx.t("checkin.none_open"))
        return
    if not code.strip():
        ctx.ask(attend("code"), ctx.t("checkin.ask_code"))
        return
    await _check_code(ctx, meetings, code)


@action("here")
async def here_button(ctx: Context, args: list[str]) -> None:
    ctx.answer_button()
    if not await _open_checkins(ctx):
        ctx.say(ctx.t("checkin.none_open"))
        return
    ctx.ask(attend("code"), ctx.t("checkin.ask_code"))


@attend.step("code", text=True)
async def code_given(ctx: Context, answer: Answer) -> None:
    ctx.finish()
    await _check_code(ctx, await _open_checkins(ctx), answer.text or "")


async def _check_code(ctx: Context, meetings: list[Meeting], code: str) -> None:
    assert ctx.person is not None and ctx.person.id is not None
    digits = "".join(ch for ch in code if ch.isdigit())
    meeting = next((m for m in meetings if m.checkin_code == digits), None)
    if meeting is None or meeting.id is None:
        ctx.say(ctx.t("checkin.wrong_code"))
        return
    fresh = await ctx.uow.meetings.check_in(meeting.id, ctx.person.id, "code", ctx.now)
    ctx.say(ctx.t("checkin.done") if fresh else ctx.t("checkin.already"))


@command("diemdanh", N_("cmd.attendance"), roles=LEADER_ROLES, menu=True, order=12)
async def attendance_command(ctx: Context, _: str) -> None:
    for unit in await led_units(ctx):
        assert unit.id is not None
        meeting = await ctx.uow.meetings.recent_for_unit(unit.id, ctx.now, CHECKIN_WINDOW_HOURS)
        if meeting is not None:
            await _attendance_menu(ctx, meeting)
            return
    ctx.say(ctx.t("checkin.no_meeting_now"))


async def _attendance_menu(ctx: Context, meeting: Meeting) -> None:
    present = await ctx.uow.meetings.present(meeting.id or 0)
    expected = await ctx.uow.meetings.attendees(meeting.unit_id)
    opened = meeting.checkin_code is not None and meeting.checkin_closed_at is None
    choices = [] if opened else [("open", ctx.t("checkin.open"))]
    choices += [
        ("mark", ctx.t("checkin.mark")),
        ("close", ctx.t("checkin.close")),
        ("back", ctx.t("common.close")),
    ]
    status = ctx.t(
        "checkin.status",
        present=len(present),
        expected=len(expected),
        code=meeting.checkin_code or "-",
    )
    ctx.ask(
        attend("menu"),
        f"{describe(ctx, meeting)}\n\n{status}",
        choices,
        data={"meeting": meeting.id},
    )


@attend.step("menu")
async def menu_step(ctx: Context, answer: Answer) -> None:
    meeting = await ctx.uow.meetings.get(ctx.data["meeting"])
    assert meeting is not None and meeting.id is not None
    if answer.key == "open":
        await _open(ctx, meeting)
    elif answer.key == "mark":
        await _ask_mark(ctx, meeting)
    elif answer.key == "close":
        meeting.checkin_closed_at = ctx.now
        ctx.uow.session.add(meeting)
        ctx.finish()
        ctx.say(await summary_text(ctx.uow, meeting, ctx.t, ctx.settings))
        ctx.audit("meeting.checkin_closed", "meeting", meeting.id)
    else:
        ctx.finish()
        await show_menu(ctx)


async def _open(ctx: Context, meeting: Meeting) -> None:
    assert meeting.id is not None
    meeting.checkin_code = f"{secrets.randbelow(10_000):04d}"
    meeting.checkin_opened_at, meeting.checkin_closed_at = ctx.now, None
    ctx.uow.session.add(meeting)
    for person in await ctx.uow.meetings.attendees(meeting.unit_id):
        if ctx.person is not None and person.id == ctx.person.id:
            continue
        await notify(
            ctx.uow,
            person,
            N_("checkin.opened_notice"),
            now=ctx.now,
            category="reminder",
            dedupe_key=f"meeting:{meeting.id}:{person.id}:checkin:{meeting.checkin_code}",
            choices=[(f"!here:{meeting.id}", N_("checkin.here_button"))],
            priority=INTERACTIVE,
        )
    ctx.audit("meeting.checkin_opened", "meeting", meeting.id)
    await _attendance_menu(ctx, meeting)


async def _ask_mark(ctx: Context, meeting: Meeting) -> None:
    present = await ctx.uow.meetings.present(meeting.id or 0)
    absent = [p for p in await ctx.uow.meetings.attendees(meeting.unit_id) if p.id not in present]
    if not absent:
        ctx.say(ctx.t("checkin.everyone_here"))
        await _attendance_menu(ctx, meeting)
        return
    choices = [(str(p.id), p.full_name or "?") for p in absent[:30]]
    choices.append(("done", ctx.t("common.done")))
    ctx.ask(attend("mark"), ctx.t("checkin.ask_mark"), choices)


@attend.step("mark")
async def mark_step(ctx: Context, answer: Answer) -> None:
    meeting = await ctx.uow.meetings.get(ctx.data["meeting"])
    assert meeting is not None and meeting.id is not None and ctx.person is not None
    if answer.key == "done":
        await _attendance_menu(ctx, meeting)
        return
    person_id = int(answer.key or 0)
    await ctx.uow.meetings.check_in(meeting.id, person_id, "marked", ctx.now, by=ctx.person.id)
    ctx.audit("meeting.marked_present", "meeting", meeting.id, person=person_id)
    await _ask_mark(ctx, meeting)
