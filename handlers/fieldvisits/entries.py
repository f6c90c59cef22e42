"""``/ngaydicoso``: a cadre's own entries this year, to correct or withdraw one.

Within ``correction_days`` of logging (counted from the first version of an entry,
so correcting does not reopen the window) the cadre changes or withdraws an entry
alone; later, a correction waits for the standing committee and withdrawing is
refused. A pending entry can always be changed or withdrawn: nothing of it counts
yet. Changes are in ``handlers.fieldvisits.correct``; every change is audited.
"""

from __future__ import annotations

from datetime import date

from bot.i18n import N_
from bot.messages import Channel
from handlers.base import Answer, Context, Flow, command
from handlers.fieldvisits.asking import summary
from handlers.fieldvisits.common import (
    Cadre,
    days_text,
    full_date,
    require_cadre,
    tally,
    today,
)
from scheduler.field_visits import counting_window, may_correct
from storage.field_visits import LIVE
from storage.models import FieldVisit, Role, Unit, VisitStatus

fix_flow = Flow("visitfix")
LIST_MAX = 15  # entries listed at once: a phone screen
CHAIN_MAX = 50  # corrections of corrections followed back to the first version
STATUS_MARKS = {VisitStatus.PENDING.value: N_("visit.mark_pending")}


@command(
    "ngaydicoso",
    N_("visit.cmd_entries"),
    aliases=("ngay di co so", "ngaydicoso", "sua ngay di co so"),
    order=43,
    shown_to=(Role.CADRE,),
)
async def entries_command(ctx: Context, _: str) -> None:
    cadre = await require_cadre(ctx, command=True)
    if cadre is None:
        return
    ctx.finish()
    await show_entries(ctx, cadre)


async def show_entries(ctx: Context, cadre: Cadre) -> None:
    """This counting year's live entries, newest days first, each with its number."""
    first, last = counting_window(cadre.rules, today(ctx))
    entries = await ctx.uow.visits.entries(cadre.person_id, first, last)
    total = await tally(ctx, cadre)
    if not entries:
        ctx.say(ctx.t("visit.no_entries") + "\n" + total)
        return
    shown = entries[:LIST_MAX]
    days = await ctx.uow.visits.days_of([e.id for e in shown if e.id is not None])
    units = await ctx.uow.visits.units_by_id(e.unit_id for e in shown)
    labels = [_line(ctx, e, days.get(e.id or 0, []), units) for e in shown]
    text = ctx.t("visit.entries", total=total, n=len(entries))
    if ctx.incoming.channel == Channel.TELEGRAM:  # the list in the text, short buttons
        text += "\n" + "\n".join(f"{i}. {label}" for i, label in enumerate(labels, start=1))
        choices = [(str(e.id), str(i)) for i, e in enumerate(shown, start=1)]
    else:  # Zalo numbers the options itself
        choices = [(str(e.id), label) for e, label in zip(shown, labels, strict=True)]
    if len(entries) > LIST_MAX:
        text += "\n" + ctx.t("visit.entries_more", n=len(entries) - LIST_MAX)
    ctx.ask(fix_flow("pick"), text, [*choices, ("close", ctx.t("common.close"))])


def _line(ctx: Context, visit: FieldVisit, days: list[date], units: dict[int, Unit]) -> str:
    unit = units.get(visit.unit_id or 0)
    line = f"{days_text(days, today(ctx).year)} · {unit.name if unit else '-'}"
    marks = [STATUS_MARKS.get(visit.status), N_("visit.mark_trip") if visit.trip_id else None]
    return " ".join([line, *(ctx.t(mark) for mark in marks if mark)])


async def first_logged(ctx: Context, visit: FieldVisit) -> date:
    """The local day the first version of this entry was logged."""
    current = visit
    for _ in range(CHAIN_MAX):
        if current.replaces_id is None:
            break
        older = await ctx.uow.visits.get(current.replaces_id)
        if older is None:
            break
        current = older
    return current.logged_at.astimezone(ctx.settings.tz).date()


def self_service(ctx: Context, cadre: Cadre, visit: FieldVisit, logged: date) -> bool:
    """Whether the cadre may change or withdraw ``visit`` without approval."""
    return visit.status == VisitStatus.PENDING or may_correct(logged, today(ctx), cadre.rules)


async def own_entry(ctx: Context, cadre: Cadre, key: object) -> FieldVisit | None:
    """A live entry of this cadre that may be changed; None after saying why not."""
    visit = await ctx.uow.visits.get(int(str(key))) if str(key).isdigit() else None
    if visit is None or visit.person_id != cadre.person_id or visit.status not in LIVE:
        ctx.finish()
        ctx.say(ctx.t("visit.entry_gone"))
        return None
    if visit.trip_id is not None:
        ctx.finish()
        ctx.say(ctx.t("visit.trip_entry"))
        return None
    if visit.id in await ctx.uow.visits.corrections_pending([visit.id or 0]):
        ctx.finish()
        ctx.say(ctx.t("visit.fix_waiting"))
        return None
    return visit


@fix_flow.step("pick")
async def pick_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    if cadre is None:
        return
    if answer.key == "close":
        ctx.finish()
        return
    visit = await own_entry(ctx, cadre, answer.key)
    if visit is None or visit.id is None:
        return
    days = (await ctx.uow.visits.days_of([visit.id])).get(visit.id, [])
    unit = await ctx.uow.units.get(visit.unit_id) if visit.unit_id else None
    logged = await first_logged(ctx, visit)
    alone = self_service(ctx, cadre, visit, logged)
    shown = {
        "kind": visit.kind,
        "note": visit.note,
        "photo": visit.photo_ref,
        "lat": visit.latitude,
    }
    text = summary(ctx, unit.name if unit else "-", days, shown)
    if visit.status == VisitStatus.PENDING:
        text += "\n" + ctx.t("visit.entry_pending")
    if alone:
        until = logged.toordinal() + cadre.rules.correction_days
        text += "\n" + ctx.t("visit.fix_until", until=full_date(date.fromordinal(until)))
    else:
        text += "\n" + ctx.t("visit.fix_needs_approval", n=cadre.rules.correction_days)
    choices = [
        ("days", ctx.t("visit.fix_days")),
        ("kind", ctx.t("visit.fix_kind")),
        ("note", ctx.t("visit.fix_note")),
    ]
    if alone:
        choices.append(("withdraw", ctx.t("visit.withdraw")))
    choices.append(("close", ctx.t("common.close")))
    data = {"visit": visit.id, "unit_name": unit.name if unit else "-"}
    ctx.ask(fix_flow("what"), text, choices, data=data)


@fix_flow.step("withdraw")
async def withdraw_step(ctx: Context, answer: Answer) -> None:
    cadre = await require_cadre(ctx)
    visit = await own_entry(ctx, cadre, ctx.data.get("visit")) if cadre else None
    if cadre is None or visit is None:
        return
    ctx.finish()
    if answer.key != "yes":
        ctx.say(ctx.t("visit.nothing_changed"))
        return
    if not self_service(ctx, cadre, visit, await first_logged(ctx, visit)):
        ctx.say(ctx.t("visit.fix_needs_approval", n=cadre.rules.correction_days))
        return
    was = visit.status
    await ctx.uow.visits.set_status(visit, VisitStatus.WITHDRAWN, expected=LIVE)
    ctx.audit("visit.withdrawn", "field_visit", visit.id, was=was)
    ctx.say(ctx.t("visit.withdrawn") + "\n" + await tally(ctx, cadre))
