"""Late entries and late corrections wait for the standing committee.

A day logged more than ``late_entry_days`` after it happened, or an entry corrected
after ``correction_days``, is stored PENDING. The standing-committee members of the
nearest unit above the cadre that has any are asked, with buttons on Telegram
("!visitok:<id>" / "!visitno:<id>") and words on Zalo ("duyet ngay 12"). Whoever
decides first decides; the cadre is told either way.
"""

from __future__ import annotations

from datetime import date

from bot.i18n import N_, Translator
from bot.messages import Outgoing
from handlers.base import Context, action, command
from handlers.fieldvisits.common import KIND_LABELS, Cadre, cadre_by_id, days_text, today
from handlers.notify import notify
from scheduler.field_visits import counting_window
from scheduler.quiet import next_allowed
from storage.field_visits import LIVE
from storage.models import FieldVisit, Person, Role, Unit, VisitStatus
from storage.outbox import INTERACTIVE
from storage.uow import UnitOfWork

DECIDERS = frozenset({Role.STANDING.value, Role.ADMIN.value})
DONE_KEYS = {True: N_("visit.approved_done"), False: N_("visit.rejected_done")}


async def _chain(uow: UnitOfWork, unit: Unit) -> list[Unit]:
    """The unit and its ancestors, nearest first."""
    return [unit, *reversed(await uow.units.ancestors(unit))]


async def approvers(uow: UnitOfWork, cadre: Cadre) -> list[Person]:
    """The standing committee of the nearest unit above (or of) the cadre that has one."""
    chain = await _chain(uow, cadre.unit)
    members = await uow.visits.standing_members([u.id for u in chain if u.id is not None])
    for unit in chain:
        people = [p for p in members.get(unit.id or 0, []) if p.id != cadre.person_id]
        if people:
            return people
    return []


async def may_decide(uow: UnitOfWork, person_id: int, cadre: Cadre) -> bool:
    """Standing committee (or admin) of the cadre's unit or of any unit above it."""
    if person_id == cadre.person_id:
        return False  # nobody approves their own days
    chain = {u.id for u in await _chain(uow, cadre.unit)}
    return any(
        m.role in DECIDERS and u.id in chain for m, u in await uow.people.memberships(person_id)
    )


async def request_approval(
    ctx: Context, cadre: Cadre, visit: FieldVisit, days: list[date], replaced: str = ""
) -> int:
    """Ask the committee about a PENDING entry; ``replaced`` describes the entry it corrects.

    Returns how many people were asked; none means nobody can approve yet (the cadre
    is told so by the caller).
    """
    assert visit.id is not None and ctx.person is not None
    unit = await ctx.uow.units.get(visit.unit_id) if visit.unit_id else None
    asked = 0
    when = next_allowed(ctx.now, ctx.settings.tz, ctx.settings.quiet_start, ctx.settings.quiet_end)
    for person in await approvers(ctx.uow, cadre):
        t = Translator(person.locale)
        asked += bool(
            await notify(
                ctx.uow,
                person,
                N_("visit.approval_fix") if replaced else N_("visit.approval_request"),
                now=ctx.now,
                category="approval",
                dedupe_key=f"visit:{visit.id}:ask:{person.id}",
                not_before=when,
                choices=[
                    (f"!visitok:{visit.id}", N_("visit.approve")),
                    (f"!visitno:{visit.id}", N_("visit.reject")),
                ],
                hint_key=N_("visit.approval_hint"),
                name=ctx.person.full_name or "-",
                n=len(days),
                days=days_text(days, today(ctx).year),
                unit=unit.name if unit else "-",
                kind=t(KIND_LABELS.get(visit.kind, KIND_LABELS["other"])),
                note=visit.note or "-",
                id=visit.id,
                before=replaced,
            )
        )
    if not asked:
        ctx.audit("visit.no_approver", "field_visit", visit.id)
    return asked


@action("visitok")
async def approve_button(ctx: Context, args: list[str]) -> None:
    await decide(ctx, args[0] if args else "", approve=True)


@action("visitno")
async def reject_button(ctx: Context, args: list[str]) -> None:
    await decide(ctx, args[0] if args else "", approve=False)


@command(
    "duyetngay", N_("visit.cmd_approve"), aliases=("duyet ngay",), public=False, takes_text=True
)
async def approve_command(ctx: Context, arg: str) -> None:
    await decide(ctx, arg.strip().lstrip("#"), approve=True)


@command(
    "tuchoingay",
    N_("visit.cmd_reject"),
    aliases=("tu choi ngay", "khong duyet ngay"),
    public=False,
    takes_text=True,
)
async def reject_command(ctx: Context, arg: str) -> None:
    await decide(ctx, arg.strip().lstrip("#"), approve=False)


def _refuse(ctx: Context, key: str, **params: object) -> None:
    ctx.answer_button(ctx.t(key, **params))
    ctx.say(ctx.t(key, **params))


async def decide(ctx: Context, ref: str, *, approve: bool) -> None:
    """Approve or reject PENDING entry ``ref`` (its id as typed or carried by the button)."""
    assert ctx.person is not None and ctx.person.id is not None
    if not ref.isdigit():
        _refuse(ctx, N_("visit.decide_which"))
        return
    visit = await ctx.uow.visits.get(int(ref))
    cadre = await cadre_by_id(ctx.uow, visit.person_id) if visit is not None else None
    if visit is None or cadre is None or not await may_decide(ctx.uow, ctx.person.id, cadre):
        _refuse(ctx, N_("visit.not_approver"), id=ref)
        return
    status = VisitStatus.COUNTED if approve else VisitStatus.REJECTED
    decided = await ctx.uow.visits.set_status(
        visit, status, expected=[VisitStatus.PENDING], by=ctx.person.id, at=ctx.now
    )
    if not decided:
        _refuse(ctx, N_("visit.already_decided"), id=ref)
        return
    if approve and visit.replaces_id is not None:
        old = await ctx.uow.visits.get(visit.replaces_id)
        if old is not None:  # the correction takes the old entry's place
            await ctx.uow.visits.set_status(old, VisitStatus.WITHDRAWN, expected=LIVE)
    ctx.audit("visit.approved" if approve else "visit.rejected", "field_visit", visit.id)
    await _tell_cadre(ctx, cadre, visit, approve)
    done = ctx.t(DONE_KEYS[approve], id=visit.id)
    ctx.answer_button()
    if ctx.incoming.message_ref is not None:  # the request loses its buttons
        original = ctx.incoming.message_text or ""
        ctx.outputs.append(
            Outgoing(
                kind="edit",
                chat_id=ctx.incoming.chat_id,
                message_ref=ctx.incoming.message_ref,
                text=f"{original}\n\n{done}".strip(),
            )
        )
    ctx.say(done)


async def _tell_cadre(ctx: Context, cadre: Cadre, visit: FieldVisit, approve: bool) -> None:
    person = await ctx.uow.people.get(cadre.person_id)
    if person is None or visit.id is None:
        return
    days = (await ctx.uow.visits.days_of([visit.id])).get(visit.id, [])
    unit = await ctx.uow.units.get(visit.unit_id) if visit.unit_id else None
    first, last = counting_window(cadre.rules, today(ctx))
    total = len(await ctx.uow.visits.counted_days(cadre.person_id, first, last))
    await notify(
        ctx.uow,
        person,
        N_("visit.approved_notice") if approve else N_("visit.rejected_notice"),
        now=ctx.now,
        category="approval",
        dedupe_key=f"visit:{visit.id}:decided",
        priority=INTERACTIVE,
        n=len(days),
        days=days_text(days, today(ctx).year),
        unit=unit.name if unit else "-",
        total=total,
        target=cadre.rules.target_days,
    )
