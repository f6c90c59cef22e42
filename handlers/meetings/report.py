"""Attendance for the upper levels: each branch's month, rolled up the unit tree."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import N_
from handlers.base import Answer, Context, Flow, command
from handlers.roles import led_units
from scheduler.attendance import attendance_rate
from storage.meetings import BranchMonth, meeting_stats
from storage.models import LEADER_ROLES, Role, Unit

report = Flow("mreport")
READERS = LEADER_ROLES | {Role.INSPECTOR}
LINES_MAX = 40


def month_bounds(year: int, month: int, ctx: Context) -> tuple[datetime, datetime]:
    tz = ctx.settings.tz
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start, end


@command("baocaosinhhoat", N_("cmd.meeting_report"), roles=READERS, menu=True, order=30)
async def report_command(ctx: Context, _: str) -> None:
    local = ctx.now.astimezone(ctx.settings.tz)
    this = (local.year, local.month)
    last = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    ctx.ask(
        report("month"),
        ctx.t("mreport.which_month"),
        [(f"{y}-{m:02d}", f"{m:02d}/{y}") for y, m in (this, last)],
    )


@report.step("month")
async def month_chosen(ctx: Context, answer: Answer) -> None:
    ctx.finish()
    year, month = (int(part) for part in (answer.key or "0-0").split("-"))
    units = await _readable_units(ctx)
    for unit in units:
        ctx.say(await _unit_report(ctx, unit, year, month))


async def _readable_units(ctx: Context) -> list[Unit]:
    assert ctx.person is not None and ctx.person.id is not None
    found = {u.id: u for u in await led_units(ctx)}
    for membership, unit in await ctx.uow.people.memberships(ctx.person.id):
        if membership.role == Role.INSPECTOR:
            found[unit.id] = unit
    return [u for u in found.values() if u is not None]


async def _unit_report(ctx: Context, top: Unit, year: int, month: int) -> str:
    subtree = list(await ctx.uow.units.subtree(top))
    start, end = month_bounds(year, month, ctx)
    stats = await meeting_stats(ctx.uow.session, [u.id for u in subtree if u.id], start, end)
    has_children = {u.parent_id for u in subtree}
    branches = [u for u in subtree if u.id not in has_children]
    total = BranchMonth()
    lines, unmet = [], []
    for unit in branches:
        assert unit.id is not None
        s = stats[unit.id]
        total.held += s.held
        total.present += s.present
        total.expected += s.expected
        if s.held == 0:
            unmet.append(unit.name)
            continue
        rate = attendance_rate(s.present, s.expected)
        lines.append(
            ctx.t(
                "mreport.line",
                unit=unit.name,
                held=s.held,
                rate=f"{rate:.0%}" if rate is not None else "-",
            )
        )
    met = len(branches) - len(unmet)
    rate = attendance_rate(total.present, total.expected)
    text = ctx.t(
        "mreport.head",
        unit=top.name,
        month=f"{month:02d}/{year}",
        met=met,
        branches=len(branches),
        rate=f"{rate:.0%}" if rate is not None else "-",
    )
    body = lines[:LINES_MAX]
    if unmet:
        body.append(ctx.t("mreport.unmet", units=", ".join(unmet[:LINES_MAX])))
    return text + ("\n\n" + "\n".join(body) if body else "")
