"""Changing an entry picked in ``/ngaydicoso``: its days, its kind or its note, or withdrawing it.

A correction is a new entry that replaces the old one (``replaces_id``):

* it counts at once (and the old one is withdrawn) when the cadre is within the
  correction window, or the old entry was still pending, and no late day is added;
* otherwise it waits for the standing committee; a counted old entry keeps counting
  until the correction is approved (then it is withdrawn) or rejected (then it stays).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.base import Answer, Context
from handlers.fieldvisits.approve import request_approval
from handlers.fieldvisits.asking import kind_choices, kind_label, new_days, note_text, summary
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
from handlers.fieldvisits.entries import first_logged, fix_flow, own_entry, self_service
from storage.field_visits import LIVE
from storage.models import FieldVisit, VisitStatus


async def _entry(ctx: Context) -> tuple[Cadre, FieldVisit] | None:
    cadre = await require_cadre(ctx)
    visit = await own_entry(ctx, cadre, ctx.data.get("visit")) if cadre else None
    if cadre is None or visit is None:
        return None
    return cadre, visit


@fix_flow.step("what")
async def what_step(ctx: Context, answer: Answer) -> None:
    if await _entry(ctx) is None:
        return
    if answer.key == "days":
        ctx.ask(fix_flow("days"), ctx.t("visit.ask_days"))
    elif answer.key == "kind":
        ctx.ask(fix_flow("kind"), ctx.t("visit.ask_kind"), kind_choices(ctx))
    elif answer.key == "note":
        ctx.ask(fix_flow("note"), ctx.t("visit.ask_note", max=NOTE_MAX))
    elif answer.key == "withdraw":
        choices = [("yes", ctx.t("visit.withdraw_yes")), ("no", ctx.t("visit.withdraw_no"))]
        ctx.ask(fix_flow("withdraw"), ctx.t("visit.ask_withdraw"), choices)
    else:
        ctx.finish()


@fix_flow.step("days", text=True)
async def days_step(ctx: Context, answer: Answer) -> None:
    found = await _entry(ctx)
    if found is None:
        return
    cadre, visit = found
    days = await new_days(ctx, cadre, answer.text or "", except_visit=visit.id)
    if days is not None:
        await _confirm(ctx, cadre, visit, {"days": [d.isoformat() for d in days]})


@fix_flow.step("kind")
async def kind_step(ctx: Context, answer: Answer) -> None:
    found = await _entry(ctx)
    if found is None:
        return
    if answer.key not in KIND_LABELS:
        ctx.repeat_question()
        return
    await _confirm(ctx, *found, {"kind": answer.key})


@fix_flow.step("note", text=True)
async def note_step(ctx: Context, answer: Answer) -> None:
    found = await _entry(ctx)
    note = note_text(ctx, answer, NOTE_MAX) if found else None
    if found is not None and note is not None:
        await _confirm(ctx, *found, {"note": note})


async def _old_days(ctx: Context, visit: FieldVisit) -> list[date]:
    assert visit.id is not None
    return (await ctx.uow.visits.days_of([visit.id])).get(visit.id, [])


def _proposed(visit: FieldVisit, old_days: list[date], change: dict[str, Any]) -> dict[str, Any]:
    days = [date.fromisoformat(d) for d in change["days"]] if "days" in change else old_days
    return {
        "days": days,
        "kind": change.get("kind", visit.kind),
        "note": change.get("note", visit.note),
        "photo": visit.photo_ref,
        "lat": visit.latitude,
    }


async def _waits(
    ctx: Context, cadre: Cadre, visit: FieldVisit, old_days: list[date], days: list[date]
) -> bool:
    """Whether this correction needs the standing committee.

    Outside the window it always does; inside, only when it adds a day logged too late
    (days that already counted in the old entry stay approved).
    """
    if not self_service(ctx, cadre, visit, await first_logged(ctx, visit)):
        return True
    counted = set(old_days) if visit.status == VisitStatus.COUNTED else set()
    return bool(late_days([d for d in days if d not in counted], today(ctx), cadre.rules))


async def _confirm(ctx: Context, cadre: Cadre, visit: FieldVisit, change: dict[str, Any]) -> None:
    old_days = await _old_days(ctx, visit)
    new = _proposed(visit, old_days, change)
    unit = str(ctx.data.get("unit_name") or "-")
    old = {"kind": visit.kind, "note": visit.note, "photo": visit.photo_ref, "lat": visit.latitude}
    text = ctx.t(
        "visit.fix_confirm",
        before=summary(ctx, unit, old_days, old),
        after=summary(ctx, unit, new["days"], new),
    )
    if await _waits(ctx, cadre, visit, old_days, new["days"]):
        text += "\n\n" + ctx.t("visit.fix_will_wait")
    choices = [("save", ctx.t("common.save")), ("cancel", ctx.t("visit.cancel"))]
    ctx.ask(fix_flow("save"), text, choices, data={"change": change})


@fix_flow.step("save")
async def save_step(ctx: Context, answer: Answer) -> None:
    found = await _entry(ctx)
    if found is None:
        return
    cadre, old = found
    change = dict(ctx.data.get("change") or {})
    ctx.finish()
    if answer.key != "save":
        ctx.say(ctx.t("visit.nothing_changed"))
        return
    old_days = await _old_days(ctx, old)
    new = _proposed(old, old_days, change)
    if "days" in change:  # another entry may have taken some of these days meanwhile
        taken = await ctx.uow.visits.logged_on(cadre.person_id, new["days"], except_visit=old.id)
        new["days"] = [d for d in new["days"] if d not in taken]
        if not new["days"]:
            ctx.say(ctx.t("visit.all_logged_now"))
            return
    waits = await _waits(ctx, cadre, old, old_days, new["days"])
    visit = FieldVisit(
        person_id=old.person_id,
        unit_id=old.unit_id,
        kind=new["kind"],
        note=new["note"],
        trip_id=old.trip_id,
        status=VisitStatus.PENDING if waits else VisitStatus.COUNTED,
        first_day=new["days"][0],
        last_day=new["days"][-1],
        photo_ref=old.photo_ref,
        latitude=old.latitude,
        longitude=old.longitude,
        replaces_id=old.id,
        logged_by_person_id=cadre.person_id,
        logged_at=ctx.now,
    )
    await ctx.uow.visits.add(visit, new["days"])
    # A counted entry keeps counting while its correction waits; otherwise it is replaced.
    if not (waits and old.status == VisitStatus.COUNTED):
        await ctx.uow.visits.set_status(old, VisitStatus.WITHDRAWN, expected=LIVE)
    ctx.audit(
        "visit.corrected",
        "field_visit",
        visit.id,
        replaces=old.id,
        before={"days": [d.isoformat() for d in old_days], "kind": old.kind, "note": old.note},
        after={
            "days": [d.isoformat() for d in new["days"]],
            "kind": visit.kind,
            "note": visit.note,
        },
        status=visit.status,
    )
    year = today(ctx).year
    if waits:
        before = f"{days_text(old_days, year)} – {kind_label(ctx, old.kind)}"
        text = ctx.t("visit.fix_sent")
        if not await request_approval(ctx, cadre, visit, new["days"], replaced=before):
            text += "\n" + ctx.t("visit.no_approver")
    else:
        text = ctx.t("visit.fix_saved", days=days_text(new["days"], year))
    ctx.say(text + "\n" + await tally(ctx, cadre))
