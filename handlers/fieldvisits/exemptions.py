"""The standing committee records an exemption from "1+2": why, from when, until when.

Reason (accounting or clerical post, over 20 years' service, serious illness,
party work, or another reason with a note), the first day (today unless told
otherwise) and an optional last day. An exempt cadre stays on the register, so the
committee report still counts them among the cadres ("2 exempt: accounting").
"""

from __future__ import annotations

import re
from datetime import date

from bot.formatting import format_date
from bot.i18n import N_, Translator
from bot.matching import fold
from handlers.base import Answer, Context, Flow
from handlers.fieldvisits.roster import Listed, roster
from handlers.fieldvisits.status import REASON_LABELS, exemption_text, local_today
from handlers.notify import notify
from scheduler.field_visits import ExemptionReason
from scheduler.notices import send_time
from storage.models import VisitExemption

exempt = Flow("fexempt")
NOTE_MAX = 255  # visit_exemption.note
_DATE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}|\d{2}))?")
_TODAY = {"hom nay", "nay", "tu hom nay"}


def read_date(text: str, today: date) -> date | None:
    """ "hôm nay", "15/3", "15/03/2026", "15-3-26"; a day without a year is the nearest one."""
    folded = fold(text)
    if folded in _TODAY:
        return today
    match = _DATE.fullmatch(folded)
    if match is None:
        return None
    day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
    years = (
        [int(year) + (2000 if len(year) == 2 else 0)]
        if year
        else [
            today.year - 1,
            today.year,
            today.year + 1,
        ]
    )
    found = []
    for candidate in years:
        try:
            found.append(date(candidate, month, day))
        except ValueError:
            continue
    return min(found, key=lambda d: abs((d - today).days)) if found else None


def start_exemption(ctx: Context, cadre: Listed) -> None:
    ctx.ask(
        exempt("reason"),
        ctx.t("fplan.ask_exemption_reason", name=cadre.person.full_name or "-"),
        [(reason.value, ctx.t(label)) for reason, label in REASON_LABELS.items()],
        data={"person": cadre.person_id},
    )


@exempt.step("reason")
async def reason_step(ctx: Context, answer: Answer) -> None:
    if answer.key not in {r.value for r in ExemptionReason}:
        ctx.repeat_question()
        return
    if answer.key == ExemptionReason.OTHER:
        ctx.ask(
            exempt("note"),
            ctx.t("fplan.ask_exemption_note", max=NOTE_MAX),
            data={"reason": answer.key},
        )
        return
    _ask_first(ctx, {"reason": answer.key, "note": ""})


@exempt.step("note", text=True)
async def note_step(ctx: Context, answer: Answer) -> None:
    note = " ".join((answer.text or "").split())
    if not note or len(note) > NOTE_MAX:
        if note:
            ctx.say(ctx.t("fplan.note_too_long", max=NOTE_MAX, length=len(note)))
        ctx.repeat_question()
        return
    _ask_first(ctx, {"note": note})


def _ask_first(ctx: Context, data: dict[str, str]) -> None:
    today = format_date(local_today(ctx.now, ctx.settings.tz), ctx.settings.tz)
    ctx.ask(
        exempt("first"),
        ctx.t("fplan.ask_exemption_first"),
        [("today", ctx.t("fplan.from_today", today=today))],
        data=data,
    )


@exempt.step("first", text=True)
async def first_step(ctx: Context, answer: Answer) -> None:
    today = local_today(ctx.now, ctx.settings.tz)
    first = today if answer.key == "today" else read_date(answer.text or "", today)
    if first is None:
        ctx.say(ctx.t("fplan.date_not_understood"))
        ctx.repeat_question()
        return
    ctx.ask(
        exempt("last"),
        ctx.t("fplan.ask_exemption_last", first=format_date(first, ctx.settings.tz)),
        [("none", ctx.t("fplan.no_end"))],
        data={"first": first.isoformat()},
    )


@exempt.step("last", text=True)
async def last_step(ctx: Context, answer: Answer) -> None:
    first = date.fromisoformat(ctx.data["first"])
    last = None
    if answer.key != "none":
        last = read_date(answer.text or "", local_today(ctx.now, ctx.settings.tz))
        if last is None or last < first:
            key = N_("fplan.last_before_first") if last else N_("fplan.date_not_understood")
            ctx.say(ctx.t(key, first=format_date(first, ctx.settings.tz)))
            ctx.repeat_question()
            return
    data = dict(ctx.data)
    ctx.finish()
    cadre = next((c for c in await roster(ctx) if c.person_id == data.get("person")), None)
    if cadre is None or cadre.unit.id is None:
        ctx.say(ctx.t("command.not_allowed"))
        return
    row = await ctx.uow.plans.add_exemption(
        VisitExemption(
            person_id=cadre.person_id,
            reason=data["reason"],
            note=data.get("note") or None,
            starts_on=first,
            ends_on=last,
            decided_by_person_id=ctx.person_id,
        )
    )
    if not cadre.on_register:  # an exempt cadre is still one of the cadres counted
        await ctx.uow.plans.enrol(cadre.person_id, cadre.unit.id, by=ctx.person_id, now=ctx.now)
    ctx.audit(
        "fieldplan.exempted",
        "visit_exemption",
        row.id,
        person=cadre.person_id,
        reason=row.reason,
        starts_on=first.isoformat(),
        ends_on=last.isoformat() if last else None,
    )
    await notify(
        ctx.uow,
        cadre.person,
        N_("fplan.told_exempt"),
        now=ctx.now,
        category="reminder",
        dedupe_key=f"fplan:exemption:{row.id}:told",
        not_before=send_time(cadre.unit, ctx.settings, ctx.now),
        # Rendered in the cadre's language, not the committee member's.
        exemption=exemption_text(Translator(cadre.person.locale), row, ctx.settings.tz),
    )
    ctx.say(
        ctx.t(
            "fplan.exemption_recorded",
            name=cadre.person.full_name or "-",
            exemption=exemption_text(ctx.t, row, ctx.settings.tz),
        )
    )
