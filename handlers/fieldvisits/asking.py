"""Questions the "1+2" flows ask alike: which unit, which days, what evidence; the summary.

Each helper either returns the answer or, when the answer cannot be used, says why
and asks the same question again, so the conversation's state is kept.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.i18n import N_
from bot.matching import fold
from bot.messages import Channel
from handlers.base import Answer, Context
from handlers.fieldvisits.common import (
    KIND_LABELS,
    QUERY_MIN,
    RECENT_UNITS,
    UNITS_SHOWN,
    Cadre,
    days_text,
    parse_problem,
    today,
    unit_answer,
    unit_choices,
)
from scheduler.visit_days import MAX_SPAN_DAYS, parse_visit_days
from storage.models import FieldVisit, Unit

PHOTO_REF_MAX = 500  # FieldVisit.photo_ref


async def ask_unit(ctx: Context, step: str, cadre: Cadre, data: dict[str, Any]) -> None:
    """Which unit: the cadre's recent units as buttons, or part of a name typed."""
    recent = await ctx.uow.visits.recent_units(cadre.person_id, RECENT_UNITS)
    text = ctx.t("visit.ask_unit")
    if recent:
        text += "\n" + ctx.t("visit.unit_recent")
    ctx.ask(step, text, unit_choices(recent), data=data)


async def picked_unit(ctx: Context, cadre: Cadre, answer: Answer, step: str) -> Unit | None:
    """The unit answered at ``step``; None after showing matches or saying none was found."""
    text = " ".join((answer.text or "").split())
    if answer.key is None and len(fold(text)) < QUERY_MIN:
        ctx.say(ctx.t("visit.unit_query_short", n=QUERY_MIN))
        ctx.repeat_question()
        return None
    unit, matches = await unit_answer(ctx, cadre, answer.key, text)
    if unit is not None:
        return unit
    if answer.key is not None or not matches:
        ctx.say(ctx.t("button.stale") if answer.key else ctx.t("visit.unit_none", text=text))
        ctx.repeat_question()
        return None
    shown = matches[:UNITS_SHOWN]
    head = ctx.t("visit.unit_matches", text=text)
    if len(matches) > len(shown):
        head += "\n" + ctx.t("visit.unit_more", n=len(matches) - len(shown))
    ctx.ask(step, head, unit_choices(shown))
    return None


async def new_days(
    ctx: Context, cadre: Cadre, text: str, *, except_visit: int | None = None
) -> list[date] | None:
    """The typed days not logged yet; None after saying what is wrong (or all logged).

    Days already in a live entry (counted or waiting) are named and left out: a day
    is never counted twice.
    """
    parsed = parse_visit_days(text, today(ctx))
    if not parsed.ok:
        ctx.say(parse_problem(ctx, parsed, MAX_SPAN_DAYS))
        ctx.repeat_question()
        return None
    already = await ctx.uow.visits.logged_on(
        cadre.person_id, parsed.days, except_visit=except_visit
    )
    if already:
        ctx.say(await already_text(ctx, already))
    fresh = [day for day in parsed.days if day not in already]
    if not fresh:
        ctx.say(ctx.t("visit.all_logged"))
        ctx.repeat_question()
        return None
    return fresh


async def already_text(ctx: Context, already: dict[date, FieldVisit]) -> str:
    """ "12/11–13/11 đã ghi: Đoàn xã Phú Thịnh (Dự họp BCH …)", one line per entry."""
    by_visit: dict[int, list[date]] = {}
    visits: dict[int, FieldVisit] = {}
    for day, visit in already.items():
        by_visit.setdefault(visit.id or 0, []).append(day)
        visits[visit.id or 0] = visit
    units = await ctx.uow.visits.units_by_id(v.unit_id for v in visits.values())
    lines = []
    for visit_id, days in by_visit.items():
        visit = visits[visit_id]
        unit = units.get(visit.unit_id or 0)
        lines.append(
            ctx.t(
                "visit.already_line",
                days=days_text(days, today(ctx).year),
                unit=unit.name if unit else "-",
                kind=kind_label(ctx, visit.kind),
            )
        )
    return ctx.t("visit.already_logged", lines="\n".join(lines))


def kind_label(ctx: Context, kind: str) -> str:
    return ctx.t(KIND_LABELS.get(kind, KIND_LABELS["other"]))


def kind_choices(ctx: Context) -> list[tuple[str, str]]:
    return [(kind, ctx.t(label)) for kind, label in KIND_LABELS.items()]


def ask_evidence(ctx: Context, step: str, data: dict[str, Any] | None = None) -> None:
    """A photo or a place, or "Bỏ qua". Zalo cannot share a place: it is not offered there."""
    telegram = ctx.incoming.channel == Channel.TELEGRAM
    key = N_("visit.ask_evidence") if telegram else N_("visit.ask_photo")
    ctx.ask(step, ctx.t(key), [("skip", ctx.t("common.skip"))], data=data)


def evidence_from(ctx: Context, answer: Answer) -> dict[str, Any] | None:
    """The evidence this message carries (or {} for "Bỏ qua"); None after asking again.

    Only the platform's reference to a photo is stored, never the image itself.
    """
    incoming = ctx.incoming
    if incoming.has_evidence:
        ref = incoming.photo_ref
        if ref is not None and len(ref) > PHOTO_REF_MAX:
            ctx.say(ctx.t("visit.photo_not_kept"))
            ref = None
        return {"photo": ref, "lat": incoming.latitude, "lon": incoming.longitude}
    if answer.key == "skip":
        return {"photo": None, "lat": None, "lon": None}
    ctx.say(ctx.t("visit.evidence_expected"))
    ctx.repeat_question()
    return None


def evidence_text(ctx: Context, data: dict[str, Any]) -> str:
    parts = []
    if data.get("photo"):
        parts.append(ctx.t("visit.evidence_photo"))
    if data.get("lat") is not None:
        parts.append(ctx.t("visit.evidence_place"))
    return ", ".join(parts) or "-"


def summary(ctx: Context, unit: str, days: list[date], data: dict[str, Any]) -> str:
    """The entry as it will be saved, short enough for a phone screen."""
    return ctx.t(
        "visit.summary",
        unit=unit,
        days=days_text(days, today(ctx).year),
        n=len(days),
        kind=kind_label(ctx, str(data.get("kind") or "other")),
        note=data.get("note") or "-",
        evidence=evidence_text(ctx, data),
    )


def note_text(ctx: Context, answer: Answer, limit: int) -> str | None:
    """What was done, in the cadre's words; None after refusing it (empty or too long)."""
    text = " ".join((answer.text or "").split())
    if not text:
        ctx.repeat_question()
        return None
    if len(text) > limit:
        ctx.say(ctx.t("visit.too_long", max=limit, length=len(text)))
        ctx.repeat_question()
        return None
    return text
