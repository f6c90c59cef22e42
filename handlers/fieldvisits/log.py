"""A cadre logs grassroots days by conversation: ``/dicoso`` ("đi cơ sở").

Which unit (recent ones as buttons, or part of a name typed without diacritics) →
which days ("hôm qua", "12/11-16/11", "thứ 2 tuần này"; days already logged are named
and left out) → what kind of work → what was done → a photo or a place, or "Bỏ qua" →
the summary, then "💾 Lưu", "Sửa" or "❌ Hủy". Nothing is stored before "Lưu". A day
older than ``late_entry_days`` makes the entry PENDING until the standing committee
approves it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.i18n import N_
from handlers.base import Answer, Context, Flow, command
from handlers.fieldvisits.approve import request_approval
from handlers.fieldvisits.asking import (
    ask_evidence,
    ask_unit,
    evidence_from,
    kind_choices,
    new_days,
    note_text,
    picked_unit,
    summary,
)
from handlers.fieldvisits.common import (
    KIND_LABELS,
    NOTE_MAX,
    Cadre,
    days_text,
    late_days,
    require_cadre,
    tally,
    today,
)
from storage.models import FieldVisit, Role, VisitStatus

visit_log = Flow("visitlog")
FIX_PARTS = {
    "unit": N_("visit.part_unit"),
    "days": N_("visit.part_days"),
    "kind": N_("visit.part_kind"),
    "note": N_("visit.part_note"),
    "evidence": N_("visit.part_evidence"),
}


@command(
    "dicoso",
    N_("visit.cmd_log"),
    aliases=("di co so", "dicoso", "ghi di co so", "ghi ngay di co so"),
    order=40,
    menu=True,
    shown_to=(Role.CADRE,),
)
async def log_command(ctx: Context, _: str) -> None:
    cadre = await require_cadre(ctx, command=True)
    if cadre is None:
        return
    ctx.finish()  # a fresh entry: nothing of an earlier, unfinished one is kept
    await ask_unit(ctx, visit_log("unit"), cadre, {})


async def _go_on(ctx: Context, cadre: Cadre, nxt: str, data: dict[str, Any]) -> None:
    """Ask the next question, or go back to the summary when a part was being fixed."""
    if ctx.data.get("fixing"):
        _confirm(ctx, cadre, data)
    elif nxt == "days":
        ctx.ask(visit_log("days"), ctx.t("visit.ask_days"), data=data)
    elif nxt == "kind":
        ctx.ask(visit_log("kind"), ctx.t("visit.ask_kind"), kind_choices(ctx), data=data)
    elif nxt == "note":
        ctx.ask(visit_log("note"), ctx.t("visit.ask_note", max=NOTE_MAX), data=data)
    else:
        ask_evidence(ctx, visit_log("evidence"), data)


@visit_log.step("unit", text=True)
async def unit_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    unit = await picked_unit(ctx, cadre, answer, visit_log("unit")) if cadre else None
    if cadre is None or unit is None:
        return
    await _go_on(ctx, cadre, "days", {"unit": unit.id, "unit_name": unit.name})


@visit_log.step("days", text=True)
async def days_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    days = await new_days(ctx, cadre, answer.text or "") if cadre else None
    if cadre is None or days is None:
        return
    await _go_on(ctx, cadre, "kind", {"days": [d.isoformat() for d in days]})


@visit_log.step("kind")
async def kind_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    if cadre is None:
        return
    if answer.key not in KIND_LABELS:
        ctx.repeat_question()
        return
    await _go_on(ctx, cadre, "note", {"kind": answer.key})


@visit_log.step("note", text=True)
async def note_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    note = note_text(ctx, answer, NOTE_MAX) if cadre else None
    if cadre is None or note is None:
        return
    await _go_on(ctx, cadre, "evidence", {"note": note})


@visit_log.step("evidence", text=True, media=True)
async def evidence_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    evidence = evidence_from(ctx, answer) if cadre else None
    if cadre is None or evidence is None:
        return
    _confirm(ctx, cadre, evidence)


def _days(data: dict[str, Any]) -> list[date]:
    return [date.fromisoformat(d) for d in data.get("days", [])]


def _confirm(ctx: Context, cadre: Cadre, data: dict[str, Any]) -> None:
    merged = {**ctx.data, **data}
    days = _days(merged)
    text = ctx.t("visit.confirm", summary=summary(ctx, str(merged.get("unit_name")), days, merged))
    late = late_days(days, today(ctx), cadre.rules)
    if late:
        text += "\n\n" + ctx.t(
            "visit.late_warning",
            days=days_text(late, today(ctx).year),
            limit=cadre.rules.late_entry_days,
        )
    choices = [
        ("save", ctx.t("common.save")),
        ("fix", ctx.t("visit.fix")),
        ("cancel", ctx.t("visit.cancel")),
    ]
    ctx.ask(visit_log("confirm"), text, choices, data={**data, "fixing": False})


@visit_log.step("confirm")
async def confirm_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    if cadre is None:
        return
    if answer.key == "save":
        await _save(ctx, cadre)
    elif answer.key == "fix":
        parts = [(key, ctx.t(label)) for key, label in FIX_PARTS.items()]
        ctx.ask(visit_log("fixpart"), ctx.t("visit.which_part"), parts)
    else:
        ctx.finish()
        ctx.say(ctx.t("visit.cancelled"))


@visit_log.step("fixpart")
async def fix_part_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    if cadre is None:
        return
    fixing = {"fixing": True}
    if answer.key == "unit":
        await ask_unit(ctx, visit_log("unit"), cadre, fixing)
    elif answer.key == "days":
        ctx.ask(visit_log("days"), ctx.t("visit.ask_days"), data=fixing)
    elif answer.key == "kind":
        ctx.ask(visit_log("kind"), ctx.t("visit.ask_kind"), kind_choices(ctx), data=fixing)
    elif answer.key == "note":
        ctx.ask(visit_log("note"), ctx.t("visit.ask_note", max=NOTE_MAX), data=fixing)
    else:
        ask_evidence(ctx, visit_log("evidence"), fixing)


async def _save(ctx: Context, cadre: Cadre) -> None:
    data = dict(ctx.data)
    ctx.finish()
    # Read again at saving time: the same days may have come in meanwhile (the other
    # channel, a second phone); only the days still new are stored.
    asked = _days(data)
    already = await ctx.uow.visits.logged_on(cadre.person_id, asked)
    days = [day for day in asked if day not in already]
    if not days:
        ctx.say(ctx.t("visit.all_logged_now"))
        return
    late = late_days(days, today(ctx), cadre.rules)
    unit = await ctx.uow.units.get(int(data["unit"]))
    visit = FieldVisit(
        person_id=cadre.person_id,
        unit_id=unit.id if unit else None,
        kind=str(data.get("kind") or "other"),
        note=data.get("note"),
        status=VisitStatus.PENDING if late else VisitStatus.COUNTED,
        first_day=days[0],
        last_day=days[-1],
        photo_ref=data.get("photo"),
        latitude=data.get("lat"),
        longitude=data.get("lon"),
        logged_by_person_id=cadre.person_id,
        logged_at=ctx.now,
    )
    await ctx.uow.visits.add(visit, days)
    ctx.audit(
        "visit.logged",
        "field_visit",
        visit.id,
        days=[d.isoformat() for d in days],
        status=visit.status,
        unit=unit.code if unit else None,
    )
    shown = days_text(days, today(ctx).year)
    if late:
        text = ctx.t("visit.saved_pending", n=len(days), days=shown)
        if not await request_approval(ctx, cadre, visit, days):
            text += "\n" + ctx.t("visit.no_approver")
    else:
        text = ctx.t("visit.saved", n=len(days), days=shown)
    ctx.say(f"{text}\n{await tally(ctx, cadre)}")
