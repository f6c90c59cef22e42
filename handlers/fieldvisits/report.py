"""The committee reads the "1+2" report in chat: ``/baocao12``, for a unit and a day.

Standing committee members, admins and inspectors (UBKT) of a unit ask for the report
of its subtree as of today or a day they type; they get a short text and may take the
Excel file. Reading changes nothing: the only rows this flow writes are the file's
media row and the audit entry saying who exported what.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.formatting import dmy
from bot.i18n import N_
from bot.matching import fold
from bot.messages import DOCUMENT, Outgoing
from handlers.base import Answer, Context, Flow, command
from handlers.fieldvisits.report_build import VisitReport, build_report
from handlers.fieldvisits.report_text import report_text
from handlers.fieldvisits.rules import rules_for
from scheduler.field_visits import counting_window
from scheduler.recurrence import parse_date
from storage.models import Role, Unit
from storage.uow import UnitOfWork
from storage.visit_report import load_report_rows

flow = Flow("freport")
READERS = frozenset({Role.STANDING, Role.ADMIN, Role.INSPECTOR})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# "15/11" or "15 tháng 11" with no year: for a report that looks back, the latest one.
_NO_YEAR = re.compile(r"(?:ngay )?\d{1,2} *(?:[/.-]|thang) *\d{1,2}")


async def load_report(
    uow: UnitOfWork, unit: Unit, as_of: date, tz: ZoneInfo, *, days: bool = False
) -> VisitReport:
    """The report of ``unit``'s subtree as of ``as_of``, under the rules of its province.

    ``days`` lists each cadre's days with their entries, as the Excel file does.
    """
    rules = await rules_for(uow, unit)
    window = counting_window(rules, as_of)
    # A trip of late last year may have its report due this year.
    since = window[0] - timedelta(days=rules.report_due_days)
    rows = await load_report_rows(
        uow.session, unit, window, as_of, entries=days, trips_ended_since=since
    )
    return build_report(unit.code, unit.name, rows, rules, as_of, tz)


def read_as_of(text: str, today: date) -> date | None:
    """The day a report is asked for: "hôm nay", "15/11/2026", "15/11"; None if unreadable.

    A day and month without a year means the latest such day up to today (a report
    looks back), unlike meetings, where it means the next one. Future days are
    returned as read: refusing them is the caller's part.
    """
    found = parse_date(text, today)
    if found is not None and found > today and _NO_YEAR.fullmatch(fold(text)):
        try:
            earlier = found.replace(year=found.year - 1)
        except ValueError:  # 29/2 a year before a leap year
            return found
        return earlier if earlier <= today else found
    return found


async def report_units(ctx: Context) -> list[Unit]:
    """Units where this person sits on the standing committee, administers or inspects."""
    assert ctx.person is not None and ctx.person.id is not None
    found: dict[int, Unit] = {}
    for membership, unit in await ctx.uow.people.memberships(ctx.person.id):
        if membership.role in READERS and unit.id is not None:
            found[unit.id] = unit
    return list(found.values())


async def _allowed(ctx: Context, unit_id: object) -> Unit | None:
    """The unit picked earlier, if this person may still read it (roles can change)."""
    units = {str(u.id): u for u in await report_units(ctx)}
    return units.get(str(unit_id))


def _today(ctx: Context) -> date:
    return ctx.now.astimezone(ctx.settings.tz).date()


@command(
    "baocao12",
    N_("freport.cmd"),
    roles=READERS,
    menu=True,
    aliases=("bao cao 1+2", "bao cao 1 + 2", "bao cao di co so"),
    order=36,
)
async def report_command(ctx: Context, _: str) -> None:
    units = await report_units(ctx)
    if not units:
        ctx.say(ctx.t("command.not_allowed"))
        return
    if len(units) == 1:
        _ask_date(ctx, units[0])
        return
    ctx.ask(flow("unit"), ctx.t("freport.which_unit"), [(str(u.id), u.name) for u in units])


def _ask_date(ctx: Context, unit: Unit) -> None:
    ctx.ask(
        flow("date"),
        ctx.t("freport.which_date", unit=unit.name, today=dmy(_today(ctx))),
        [("today", ctx.t("freport.today"))],
        data={"unit": unit.id},
    )


@flow.step("unit")
async def unit_chosen(ctx: Context, answer: Answer) -> None:
    unit = await _allowed(ctx, answer.key)
    if unit is None:
        ctx.finish()
        ctx.say(ctx.t("command.not_allowed"))
        return
    _ask_date(ctx, unit)


@flow.step("date", text=True)
async def date_given(ctx: Context, answer: Answer) -> None:
    today = _today(ctx)
    as_of = today if answer.key == "today" else read_as_of(answer.text or "", today)
    if as_of is None or as_of > today:
        # The question stays open: the person may simply type the day again.
        key = N_("freport.date_not_understood") if as_of is None else N_("freport.date_future")
        ctx.say(ctx.t(key, today=dmy(today)))
        ctx.repeat_question()
        return
    unit = await _allowed(ctx, ctx.data.get("unit"))
    if unit is None:
        ctx.finish()
        ctx.say(ctx.t("command.not_allowed"))
        return
    report = await load_report(ctx.uow, unit, as_of, ctx.settings.tz)
    ctx.say(report_text(report, ctx.t))
    if not report.total:
        ctx.finish()
        return
    ctx.ask(
        flow("after"),
        ctx.t("freport.more"),
        [("xls", ctx.t("freport.excel")), ("close", ctx.t("common.close"))],
        data={"unit": unit.id, "as_of": as_of.isoformat()},
    )


@flow.step("after")
async def after_report(ctx: Context, answer: Answer) -> None:
    unit_id, as_of = ctx.data.get("unit"), str(ctx.data.get("as_of", ""))
    ctx.finish()
    if answer.key != "xls":
        return
    unit = await _allowed(ctx, unit_id)
    if unit is None:
        ctx.say(ctx.t("command.not_allowed"))
        return
    await send_workbook(ctx, unit, date.fromisoformat(as_of))


async def send_workbook(ctx: Context, unit: Unit, as_of: date) -> None:
    """The Excel file of the report: a document on Telegram, an expiring link on Zalo."""
    report = await load_report(ctx.uow, unit, as_of, ctx.settings.tz, days=True)
    # openpyxl is imported only when a file is asked for: the bot starts faster.
    from handlers.fieldvisits.export import visit_workbook, workbook_name

    name = workbook_name(report)
    # Seconds for a whole province: in a thread, so the bot keeps serving others meanwhile.
    data = await asyncio.to_thread(visit_workbook, report, ctx.t)
    token = await ctx.uow.media.put(
        data,
        XLSX,
        now=ctx.now,
        ttl=timedelta(hours=ctx.settings.media_link_hours),
        name=name,
    )
    ctx.outputs.append(
        Outgoing(
            kind="send",
            chat_id=ctx.incoming.chat_id,
            text=ctx.t("freport.excel_caption", unit=unit.name, date=dmy(as_of)),
            media_token=token,
            media_kind=DOCUMENT,
            media_name=name,
            locale=ctx.t.locale,
        )
    )
    ctx.audit("visits.report_exported", "unit", unit.id, as_of=as_of.isoformat())
