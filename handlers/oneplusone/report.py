""" "1+1" reports in chat: ``/baocao11``, a branch's year or a unit's subtree rolled up.

A secretary or deputy of a branch gets the branch report, names and all (their own
branch only); the standing committee, admins and inspectors (UBKT) of a unit, and a
secretary of a unit with units under it, get the roll-up, which names nobody. From
January to March, while last year may still be evaluated, the year is asked. Both end
with the Excel file on request. Reading changes nothing: the only rows this flow
writes are the file's media row and the audit entry saying who exported what.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.formatting import dmy
from bot.i18n import N_
from bot.messages import DOCUMENT, Outgoing
from handlers.base import Answer, Context, Flow, action, command
from handlers.fieldvisits.report import XLSX
from handlers.oneplusone.common import today as local_day
from handlers.oneplusone.report_build import Report, load_report
from handlers.oneplusone.report_text import report_text
from handlers.oneplusone.rules import evaluation_year
from storage.models import Role, Unit

flow = Flow("r11report")
READERS11 = frozenset({Role.SECRETARY, Role.DEPUTY, Role.STANDING, Role.ADMIN, Role.INSPECTOR})
#: Who may see the names of their own branch's members and young people.
NAMING = frozenset({Role.SECRETARY, Role.DEPUTY})


async def readable_units(ctx: Context) -> dict[int, tuple[Unit, bool]]:
    """Units this person may read, each with whether they lead it (and may see names)."""
    assert ctx.person is not None and ctx.person.id is not None
    found: dict[int, tuple[Unit, bool]] = {}
    for membership, unit in await ctx.uow.people.memberships(ctx.person.id):
        if membership.role in READERS11 and unit.id is not None:
            named = found.get(unit.id, (unit, False))[1] or membership.role in NAMING
            found[unit.id] = (unit, named)
    return found


async def _allowed(ctx: Context, unit_id: object) -> tuple[Unit, bool] | None:
    """The unit picked earlier, if this person may still read it (roles can change)."""
    return {str(k): v for k, v in (await readable_units(ctx)).items()}.get(str(unit_id))


@command(
    "baocao11",
    N_("r11report.cmd"),
    roles=READERS11,
    menu=True,
    aliases=("bao cao 1+1", "bao cao 1 + 1", "bao cao mot cong mot"),
    order=37,
)
async def report_command(ctx: Context, _: str) -> None:
    units = list((await readable_units(ctx)).values())
    if not units:
        ctx.say(ctx.t("command.not_allowed"))
        return
    if len(units) == 1:
        await _ask_year(ctx, *units[0])
        return
    ctx.ask(flow("unit"), ctx.t("r11report.which_unit"), [(str(u.id), u.name) for u, _ in units])


@action("r11report")
async def report_button(ctx: Context, _: list[str]) -> None:
    """ "Xem báo cáo" on the branch's monthly summary."""
    ctx.answer_button()
    ctx.finish()
    await report_command(ctx, "")


@flow.step("unit")
async def unit_chosen(ctx: Context, answer: Answer) -> None:
    found = await _allowed(ctx, answer.key)
    if found is None:
        ctx.finish()
        ctx.say(ctx.t("command.not_allowed"))
        return
    await _ask_year(ctx, *found)


async def _ask_year(ctx: Context, unit: Unit, named: bool) -> None:
    on = local_day(ctx)
    if evaluation_year(on) != on.year - 1:
        await _show(ctx, unit, named, on.year)
        return
    years = (on.year, on.year - 1)
    ctx.ask(
        flow("year"),
        ctx.t("r11report.which_year", unit=unit.name),
        [(str(y), ctx.t("r11report.year_label", year=y)) for y in years],
        data={"unit": unit.id},
    )


@flow.step("year")
async def year_chosen(ctx: Context, answer: Answer) -> None:
    found = await _allowed(ctx, ctx.data.get("unit"))
    on = local_day(ctx)
    if found is None or answer.key not in {str(on.year), str(on.year - 1)}:
        ctx.finish()
        ctx.say(ctx.t("command.not_allowed"))
        return
    await _show(ctx, *found, int(answer.key))


async def _show(ctx: Context, unit: Unit, named: bool, year: int) -> None:
    report = await _report(ctx, unit, named, year)
    ctx.say(report_text(report, ctx.t))
    if not (report.named or report.totals.branches):
        ctx.finish()
        return
    ctx.ask(
        flow("after"),
        ctx.t("r11report.more"),
        [("xls", ctx.t("r11report.excel")), ("close", ctx.t("common.close"))],
        data={"unit": unit.id, "year": year},
    )


async def _report(ctx: Context, unit: Unit, named: bool, year: int) -> Report:
    return await load_report(ctx.uow, unit, year, ctx.settings, local_day(ctx), names=named)


@flow.step("after")
async def after_report(ctx: Context, answer: Answer) -> None:
    unit_id, year = ctx.data.get("unit"), int(ctx.data.get("year", 0))
    ctx.finish()
    if answer.key != "xls":
        return
    found = await _allowed(ctx, unit_id)
    if found is None:
        ctx.say(ctx.t("command.not_allowed"))
        return
    unit, named = found
    report = await _report(ctx, unit, named, year)
    from handlers.oneplusone.export import report_workbook, workbook_name  # openpyxl on demand

    # A province's file takes a while: in a thread, so the bot keeps serving others.
    data = await asyncio.to_thread(report_workbook, report, ctx.t)
    caption = ctx.t("r11report.excel_caption", unit=unit.name, year=year, date=dmy(report.as_of))
    await send_document(ctx, data, workbook_name(report), caption)
    ctx.audit("oneplusone.report_exported", "unit", unit.id, year=year, names=report.named)


async def send_document(ctx: Context, data: bytes, name: str, caption: str) -> None:
    """An Excel file to this chat: a document on Telegram, an expiring link on Zalo."""
    ttl = timedelta(hours=ctx.settings.media_link_hours)
    token = await ctx.uow.media.put(data, XLSX, now=ctx.now, ttl=ttl, name=name)
    ctx.outputs.append(
        Outgoing(
            kind="send",
            chat_id=ctx.incoming.chat_id,
            text=caption,
            media_token=token,
            media_kind=DOCUMENT,
            media_name=name,
            locale=ctx.t.locale,
        )
    )
