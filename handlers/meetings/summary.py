"""After a meeting: who came, who said what, and who is falling behind."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Settings
from bot.formatting import format_datetime
from bot.i18n import N_
from scheduler.attendance import Mark, attendance_rate, should_flag
from storage.models import Meeting
from storage.uow import UnitOfWork

FLAG_KEYS = {
    "two_in_a_row": N_("summary.flag_two_in_a_row"),
    "strike_off_threshold": N_("summary.flag_strike_off"),
}


async def summary_text(
    uow: UnitOfWork, meeting: Meeting, t: Callable[..., str], settings: Settings
) -> str:
    """The secretary's summary: attendance, RSVPs, absentees and follow-up flags."""
    assert meeting.id is not None
    people = await uow.meetings.attendees(meeting.unit_id)
    present = await uow.meetings.present(meeting.id)
    rsvps = await uow.meetings.rsvps(meeting.id)
    absent_lines, flags = [], []
    for person in people:
        if person.id in present or person.id is None:
            continue
        rsvp = rsvps.get(person.id)
        note = (
            t("summary.excused", reason=rsvp.reason or "-") if rsvp and rsvp.answer == "no" else ""
        )
        absent_lines.append(f"• {person.full_name}{note}")
        # Every absence counts here; whether a reason is good is the secretary's call.
        history = await uow.meetings.history(meeting.unit_id, person.id, meeting.starts_at)
        marks = [Mark(at.astimezone(settings.tz).date(), came) for at, came in history]
        flag = should_flag(marks)
        if flag in FLAG_KEYS:
            flags.append(t(FLAG_KEYS[flag], name=person.full_name))
    rate = attendance_rate(len(present & {p.id for p in people}), len(people))
    counts = {a: sum(1 for r in rsvps.values() if r.answer == a) for a in ("yes", "no", "maybe")}
    text = t(
        "summary.text",
        when=format_datetime(meeting.starts_at, settings.tz),
        present=len(present),
        expected=len(people),
        rate=f"{rate:.0%}" if rate is not None else "-",
        yes=counts["yes"],
        no=counts["no"],
        maybe=counts["maybe"],
        absent="\n".join(absent_lines) or t("summary.nobody_absent"),
    )
    if flags:
        text += "\n\n" + "\n".join(flags)
    return text
