"""The operator's command line (``doanbot …``): migrations, roster imports, invites, running.

Thin on purpose: parse arguments, call ``storage.imports`` or the repositories in one unit
of work, print. Every word an operator reads comes from the catalogs (``cli.*`` keys) in
``settings.default_locale``.
"""

from __future__ import annotations

import asyncio
import csv
import enum
import io
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.clock import system_clock
from bot.config import Settings
from bot.formatting import format_date
from bot.i18n import N_, Translator, translate
from bot.poll_files import (
    PollFile,
    PollFileInvalid,
    PollLine,
    check_units,
    poll_lines,
    read_poll_file,
)
from handlers.polls.service import PollRefused, store_poll
from storage.db import Database
from storage.imports import (
    ImportedMember,
    ImportFailed,
    RosterLine,
    import_members,
    import_units,
    parse_role,
    read_members,
    read_units,
    roster,
)
from storage.models import MIN_CELL, PersonStatus, Poll, PollStatus, QuestionKind, Role
from storage.polls import AudienceSize
from storage.uow import UnitOfWork, unit_of_work

if TYPE_CHECKING:
    from handlers.oneplusone.report_build import Report
    from handlers.polls.results import PollResults

T = TypeVar("T")

MAX_ERRORS_SHOWN = 20

# Help is rendered before the settings are read; only the locale is looked up early.
HELP_LOCALE = os.environ.get("DOANBOT_DEFAULT_LOCALE", "vi")


def _tr(key: str) -> str:
    """Help text, in the locale of DOANBOT_DEFAULT_LOCALE."""
    return translate(HELP_LOCALE, key)


app = typer.Typer(no_args_is_help=True, add_completion=False, help=_tr("cli.help.app"))
db_app = typer.Typer(no_args_is_help=True, help=_tr("cli.help.db"))
units_app = typer.Typer(no_args_is_help=True, help=_tr("cli.help.units"))
members_app = typer.Typer(no_args_is_help=True, help=_tr("cli.help.members"))
invite_app = typer.Typer(no_args_is_help=True, help=_tr("cli.help.invite"))
app.add_typer(db_app, name="db")
app.add_typer(units_app, name="units")
app.add_typer(members_app, name="members")
app.add_typer(invite_app, name="invite")


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"


class CliError(Exception):
    """A message for the operator (a catalog key) and exit code 1."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# --- plumbing --------------------------------------------------------------------------


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=1)


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _report(t: Translator, source: str, failure: ImportFailed) -> typer.Exit:
    """Every problem (up to a screenful) with its row, and that nothing was saved."""
    errors = failure.errors
    lines = [t("cli.import.failed", file=source, count=len(errors))]
    for error in errors[:MAX_ERRORS_SHOWN]:
        message = t(error.key, **error.params)
        if error.row:
            message = t("cli.import.row", row=error.row, message=message)
        lines.append(f"  {message}")
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append("  " + t("cli.import.more", count=len(errors) - MAX_ERRORS_SHOWN))
    return _fail("\n".join(lines))


def _in_uow(
    settings: Settings,
    work: Callable[[UnitOfWork], Awaitable[T]],
    source: str = "",
    *,
    commit: bool = True,
) -> T:
    """Run ``work`` in one unit of work (committed when it returns, unless ``commit`` is
    false: a dry run) on a fresh database connection, and turn the failures an operator
    can act on into messages and exit 1."""

    async def go() -> T:
        db = Database(settings.database_url)
        try:
            async with unit_of_work(db) as uow:
                result = await work(uow)
                if commit:
                    await uow.commit()
                return result
        finally:
            await db.dispose()

    t = Translator(settings.default_locale)
    try:
        return asyncio.run(go())
    except ImportFailed as failure:
        raise _report(t, source, failure) from None
    except CliError as error:
        raise _fail(t(error.key, **error.params)) from None
    except (SQLAlchemyError, OSError) as exc:
        raise _db_error(t, settings, exc) from None


def _db_error(t: Translator, settings: Settings, exc: Exception) -> typer.Exit:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _fail(t("cli.db.error", url=_safe_url(settings.database_url), error=detail))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = [headers, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _csv(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue()


def _role(t: Translator, role: str) -> str:
    return t(f"role.{role}")


def _telegram_link(settings: Settings, code: str) -> str | None:
    username = (settings.telegram_bot_username or "").strip().lstrip("@")
    return f"https://t.me/{username}?start={code}" if username else None


def _parse_role(t: Translator, text: str) -> Role:
    role = parse_role(text)
    if role is None:
        choices = ", ".join(f"{r.value} ({_role(t, r)})" for r in Role)
        raise _fail(t("cli.bad_role", role=text, choices=choices))
    return role


# --- the app ---------------------------------------------------------------------------


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help=_tr("cli.help.database_url"))
    ] = None,
) -> None:
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo(translate(HELP_LOCALE, "cli.settings_invalid", error=exc), err=True)
        raise typer.Exit(code=2) from None
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    ctx.obj = settings


@db_app.command("upgrade", help=_tr("cli.help.db_upgrade"))
def db_upgrade(ctx: typer.Context) -> None:
    from storage.migrate import upgrade

    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    url = _safe_url(settings.database_url)
    try:
        upgrade(settings.database_url)
    except (SQLAlchemyError, OSError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _fail(t("cli.db.upgrade_failed", url=url, error=detail)) from None
    typer.echo(t("cli.db.upgraded", url=url))


# --- units -----------------------------------------------------------------------------


@units_app.command("import", help=_tr("cli.help.units_import"))
def units_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=_tr("cli.help.units_file"))],
) -> None:
    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    try:
        parsed = read_units(file)
    except ImportFailed as failure:
        raise _report(t, file.name, failure) from None
    result = _in_uow(settings, lambda uow: import_units(uow, parsed), source=file.name)
    typer.echo(
        t(
            "cli.units.imported",
            created=len(result.created),
            updated=len(result.updated),
            unchanged=len(result.unchanged),
        )
    )
    if result.moved:
        typer.echo(t("cli.units.moved", codes=", ".join(result.moved)))


@units_app.command("list", help=_tr("cli.help.units_list"))
def units_list(
    ctx: typer.Context,
    unit: Annotated[str | None, typer.Option("--unit", help=_tr("cli.help.unit_code"))] = None,
) -> None:
    settings = _settings(ctx)

    async def work(uow: UnitOfWork) -> list[tuple[int, str, str, str]]:
        if unit is None:
            units = await uow.units.all()
        else:
            top = await uow.units.by_code(unit)
            if top is None:
                raise CliError(N_("cli.unknown_unit"), code=unit)
            units = await uow.units.subtree(top)
        base = min((u.depth for u in units), default=0)
        return [(u.depth - base, u.code, u.name, u.kind) for u in units]

    tree = _in_uow(settings, work)
    if not tree:
        t = Translator(settings.default_locale)
        typer.echo(t("cli.units.none"))
        return
    for depth, code, name, kind in tree:
        typer.echo(f"{'    ' * depth}{code}  {name} ({kind})")


UNIT_SETTINGS = {
    "quiet_start": "time",
    "quiet_end": "time",
    "secretary_reminder_days": "int",
    "member_reminder_hours": "hours",
    "oneplusone_target": "int",
    "oneplusone_reminder_day": "int",
}
#: The range a whole-number setting must be in (default: 0 or more). A reminder day
#: stops at 26 so that its two days' grace still fall in February.
UNIT_SETTING_RANGE = {"oneplusone_target": (1, 1000), "oneplusone_reminder_day": (1, 26)}


def _setting_value(name: str, raw: str) -> object:
    """Parse ``raw`` for the unit setting ``name``; ValueError when it does not fit."""
    kind = UNIT_SETTINGS[name]
    if kind == "time":
        hours, minutes = (int(part) for part in raw.split(":"))
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError(raw)
        return f"{hours:02d}:{minutes:02d}"
    if kind == "int":
        value = int(raw)
        low, high = UNIT_SETTING_RANGE.get(name, (0, None))
        if value < low or (high is not None and value > high):
            raise ValueError(raw)
        return value
    hours_list = sorted({int(part) for part in raw.replace(" ", "").split(",")}, reverse=True)
    if not hours_list or min(hours_list) <= 0:
        raise ValueError(raw)
    return hours_list


@units_app.command("set", help=_tr("cli.help.units_set"))
def units_set(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help=_tr("cli.help.unit_code"))],
    values: Annotated[list[str], typer.Argument(help=_tr("cli.help.unit_settings"))],
) -> None:
    """Override a default for one unit (and what lies under it reads its own value)."""
    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    from handlers.fieldvisits.rules import RULE_NAMES, SETTINGS_KEY, rules_from

    changes: dict[str, object] = {}
    visit_rules: dict[str, int] = {}  # "1+2" numbers: visit_target_days=30 …
    known = [*UNIT_SETTINGS, *(f"visit_{rule}" for rule in sorted(RULE_NAMES))]
    for item in values:
        name, _, raw = item.partition("=")
        rule = name.removeprefix("visit_")
        if name not in UNIT_SETTINGS and not (name.startswith("visit_") and rule in RULE_NAMES):
            raise _fail(t("cli.units.unknown_setting", name=name, known=", ".join(known)))
        try:
            if name in UNIT_SETTINGS:
                changes[name] = _setting_value(name, raw)
            else:
                visit_rules[rule] = int(raw)
                rules_from({SETTINGS_KEY: visit_rules})  # refuses month 13, 7 > 5 …
        except ValueError:
            raise _fail(t("cli.units.bad_setting", name=name, value=raw)) from None

    async def work(uow: UnitOfWork) -> dict[str, object]:
        unit = await uow.units.by_code(code)
        if unit is None:
            raise CliError(N_("cli.unknown_unit"), code=code)
        if visit_rules:
            own = {**unit.settings.get(SETTINGS_KEY, {}), **visit_rules}
            rules_from({SETTINGS_KEY: own})
            changes[SETTINGS_KEY] = own
        unit.settings = {**unit.settings, **changes}
        uow.session.add(unit)
        uow.audit.record("unit.settings_changed", "unit", unit.id, actor="cli", changes=changes)
        return unit.settings

    result = _in_uow(settings, work)
    typer.echo(t("cli.units.settings_saved", code=code, settings=result))


# --- members ---------------------------------------------------------------------------


@members_app.command("import", help=_tr("cli.help.members_import"))
def members_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=_tr("cli.help.members_file"))],
    codes_out: Annotated[
        Path | None, typer.Option("--codes-out", help=_tr("cli.help.codes_out"))
    ] = None,
) -> None:
    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    if codes_out is not None and not codes_out.resolve().parent.is_dir():
        raise _fail(t("cli.members.codes_out_dir", file=str(codes_out)))
    try:
        parsed = read_members(file)
    except ImportFailed as failure:
        raise _report(t, file.name, failure) from None
    imported = _in_uow(
        settings,
        lambda uow: import_members(
            uow,
            parsed,
            now=system_clock(),
            valid_for=timedelta(days=settings.invite_valid_days),
            locale=settings.default_locale,
        ),
        source=file.name,
    )
    headers = [t("cli.col.name"), t("cli.col.unit"), t("cli.col.role"), t("cli.col.code")]
    rows = [[m.full_name, m.unit_name, _role(t, m.role), m.code] for m in imported]
    typer.echo(_table(headers, rows))
    typer.echo("")
    expires = format_date(imported[0].expires_at, settings.tz) if imported else ""
    typer.echo(t("cli.members.imported", count=len(imported), date=expires))
    typer.echo(t("cli.members.how_to_join"))
    if codes_out is not None:
        _write_codes(t, settings, codes_out, imported)
        typer.echo(t("cli.members.codes_saved", file=str(codes_out)))


def _write_codes(
    t: Translator, settings: Settings, path: Path, imported: list[ImportedMember]
) -> None:
    """A CSV for the secretary to hand out; with a BOM so Excel reads the Vietnamese right."""
    headers = [
        t("cli.col.name"),
        t("cli.col.unit_code"),
        t("cli.col.unit"),
        t("cli.col.role"),
        t("cli.col.code"),
        t("cli.col.expires"),
    ]
    with_link = bool(_telegram_link(settings, "X"))
    if with_link:
        headers.append(t("cli.col.telegram_link"))
    rows = []
    for m in imported:
        row = [
            m.full_name,
            m.unit_code,
            m.unit_name,
            _role(t, m.role),
            m.code,
            format_date(m.expires_at, settings.tz),
        ]
        if with_link:
            row.append(_telegram_link(settings, m.code) or "")
        rows.append(row)
    try:
        path.write_text(_csv(headers, rows), encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise _fail(t("cli.members.codes_not_saved", file=str(path), error=exc)) from None


_CHANNELS = {"telegram": N_("cli.channel.telegram"), "zalo": N_("cli.channel.zalo")}
_STATUSES: dict[str, str] = {
    PersonStatus.INVITED: N_("cli.status.invited"),
    PersonStatus.ACTIVE: N_("cli.status.active"),
    PersonStatus.DELETED: N_("cli.status.deleted"),
}


def _channels(t: Translator, line: RosterLine) -> str:
    names = []
    for link in line.channels:
        name = t(_CHANNELS[link.channel]) if link.channel in _CHANNELS else link.channel
        if not link.reachable:
            name = t("cli.channel.blocked", channel=name)
        names.append(name)
    return ", ".join(names) or "—"


@members_app.command("list", help=_tr("cli.help.members_list"))
def members_list(
    ctx: typer.Context,
    unit: Annotated[str, typer.Option("--unit", help=_tr("cli.help.unit_code"))],
    output: Annotated[
        OutputFormat, typer.Option("--format", help=_tr("cli.help.format"))
    ] = OutputFormat.TABLE,
) -> None:
    settings = _settings(ctx)
    t = Translator(settings.default_locale)

    async def work(uow: UnitOfWork) -> list[RosterLine]:
        top = await uow.units.by_code(unit)
        if top is None:
            raise CliError(N_("cli.unknown_unit"), code=unit)
        return await roster(uow, top)

    lines = _in_uow(settings, work)
    headers = [
        t("cli.col.name"),
        t("cli.col.unit"),
        t("cli.col.role"),
        t("cli.col.channels"),
        t("cli.col.status"),
    ]
    rows = [
        [
            line.full_name,
            line.unit_name,
            _role(t, line.role),
            _channels(t, line),
            t(_STATUSES[line.status]) if line.status in _STATUSES else line.status,
        ]
        for line in lines
    ]
    if output is OutputFormat.CSV:
        typer.echo(_csv(headers, rows), nl=False)
    elif not rows:
        typer.echo(t("cli.members.none", unit=unit))
    else:
        typer.echo(_table(headers, rows))


# --- invites ---------------------------------------------------------------------------


@invite_app.command("create", help=_tr("cli.help.invite_create"))
def invite_create(
    ctx: typer.Context,
    unit: Annotated[str, typer.Option("--unit", help=_tr("cli.help.unit_code"))],
    role: Annotated[str, typer.Option("--role", help=_tr("cli.help.role"))],
    uses: Annotated[int | None, typer.Option("--uses", help=_tr("cli.help.uses"))] = None,
    days: Annotated[int | None, typer.Option("--days", help=_tr("cli.help.days"))] = None,
) -> None:
    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    parsed_role = _parse_role(t, role)
    if uses is not None and uses < 1:
        raise _fail(t("cli.invite.bad_uses"))
    valid_days = settings.invite_valid_days if days is None else days
    if valid_days < 1:
        raise _fail(t("cli.invite.bad_days"))

    async def work(uow: UnitOfWork) -> tuple[str, str, str, str]:
        target = await uow.units.by_code(unit)
        if target is None or target.id is None:
            raise CliError(N_("cli.unknown_unit"), code=unit)
        invite = await uow.invites.create(
            unit_id=target.id,
            role=parsed_role,
            now=system_clock(),
            valid_for=timedelta(days=valid_days),
            max_uses=uses,
        )
        uow.audit.record(
            "invite.created",
            "invite",
            invite.id,
            actor="cli",
            unit=target.code,
            role=parsed_role.value,
            max_uses=uses,
            days=valid_days,
        )
        return invite.code, target.code, target.name, format_date(invite.expires_at, settings.tz)

    code, unit_code, unit_name, expires = _in_uow(settings, work)
    typer.echo(t("cli.invite.created", code=code))
    typer.echo(t("cli.invite.for", unit=unit_name, unit_code=unit_code, role=_role(t, parsed_role)))
    typer.echo(t("cli.invite.expires", date=expires))
    if uses is None:
        typer.echo(t("cli.invite.uses_unlimited"))
    else:
        typer.echo(t("cli.invite.uses", count=uses))
    link = _telegram_link(settings, code)
    if link is not None:
        typer.echo(t("cli.invite.telegram", link=link))
    elif settings.telegram_enabled:
        typer.echo(t("cli.invite.telegram_no_username", code=code))
    typer.echo(t("cli.invite.zalo", code=code))


# --- outbox ----------------------------------------------------------------------------

outbox_app = typer.Typer(no_args_is_help=True, help=_tr("cli.outbox.help"))
app.add_typer(outbox_app, name="outbox")

_OUTBOX_STATUSES: dict[str, str] = {
    "pending": N_("cli.outbox.status.pending"),
    "sent": N_("cli.outbox.status.sent"),
    "dead": N_("cli.outbox.status.dead"),
    "unreachable": N_("cli.outbox.status.unreachable"),
}
_OUTBOX_CATEGORIES: dict[str, str] = {
    "reply": N_("cli.outbox.category.reply"),
    "reminder": N_("cli.outbox.category.reminder"),
    "broadcast": N_("cli.outbox.category.broadcast"),
    "nudge": N_("cli.outbox.category.nudge"),
}


def _age(t: Translator, seconds: float) -> str:
    """A waiting time as an operator reads it: the two largest units."""
    minutes, hours = int(seconds // 60), int(seconds // 3600)
    if seconds < 60:
        return t("cli.outbox.age.seconds", seconds=int(seconds))
    if hours < 1:
        return t("cli.outbox.age.minutes", minutes=minutes)
    if hours < 24:
        return t("cli.outbox.age.hours", hours=hours, minutes=minutes % 60)
    return t("cli.outbox.age.days", days=hours // 24, hours=hours % 24)


@outbox_app.command("status", help=_tr("cli.outbox.help_status"))
def outbox_status(ctx: typer.Context) -> None:
    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    now = system_clock()
    report = _in_uow(settings, lambda uow: uow.outbox.report(now))
    if not report.lines:
        typer.echo(t("cli.outbox.empty"))
        return
    headers = [t("cli.outbox.col.status"), t("cli.outbox.col.category"), t("cli.outbox.col.count")]
    rows = [
        [
            t(_OUTBOX_STATUSES[line.status]) if line.status in _OUTBOX_STATUSES else line.status,
            t(_OUTBOX_CATEGORIES[line.category])
            if line.category in _OUTBOX_CATEGORIES
            else line.category,
            str(line.count),
        ]
        for line in report.lines
    ]
    typer.echo(_table(headers, rows))
    typer.echo("")
    if report.oldest_due is None:
        typer.echo(t("cli.outbox.nothing_due"))
    else:
        waited = _age(t, max(0.0, (now - report.oldest_due).total_seconds()))
        typer.echo(t("cli.outbox.oldest_due", age=waited))
    if report.scheduled:
        typer.echo(t("cli.outbox.scheduled", count=report.scheduled))
    typer.echo(t("cli.outbox.unreachable", count=report.unreachable))
    if not report.dead_total:
        typer.echo(t("cli.outbox.no_dead"))
        return
    typer.echo(t("cli.outbox.dead", count=report.dead_total, shown=len(report.dead)))
    headers = [
        t("cli.outbox.col.id"),
        t("cli.outbox.col.channel"),
        t("cli.outbox.col.chat"),
        t("cli.outbox.col.category"),
        t("cli.outbox.col.attempts"),
        t("cli.outbox.col.error"),
    ]
    dead_rows = [
        [
            str(row.id),
            t(_CHANNELS[row.channel]) if row.channel in _CHANNELS else row.channel,
            row.chat_id,
            t(_OUTBOX_CATEGORIES[row.category])
            if row.category in _OUTBOX_CATEGORIES
            else row.category,
            str(row.attempts),
            (row.last_error or "—").replace("\n", " ")[:80],
        ]
        for row in report.dead
    ]
    typer.echo(_table(headers, dead_rows))


@outbox_app.command("retry", help=_tr("cli.outbox.help_retry"))
def outbox_retry(
    ctx: typer.Context,
    message_id: Annotated[int | None, typer.Option("--id", help=_tr("cli.outbox.help_id"))] = None,
    all_dead: Annotated[
        bool, typer.Option("--all-dead", help=_tr("cli.outbox.help_all_dead"))
    ] = False,
) -> None:
    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    if (message_id is None) == (not all_dead):  # exactly one of the two
        raise _fail(t("cli.outbox.retry_which"))

    async def work(uow: UnitOfWork) -> int:
        retried = await uow.outbox.retry_dead(system_clock(), message_id)
        if message_id is not None and not retried:
            raise CliError(N_("cli.outbox.not_dead"), id=message_id)
        if retried:
            uow.audit.record(
                "outbox.retried",
                "outbox_message",
                message_id,
                actor="cli",
                count=retried,
            )
        return retried

    count = _in_uow(settings, work)
    typer.echo(t("cli.outbox.retried", count=count))


# --- polls -----------------------------------------------------------------------------

polls_app = typer.Typer(no_args_is_help=True, help=_tr("cli.polls.help"))
app.add_typer(polls_app, name="polls")

_POLL_STATUSES: dict[str, str] = {
    PollStatus.SCHEDULED: N_("cli.polls.status.scheduled"),
    PollStatus.OPEN: N_("cli.polls.status.open"),
    PollStatus.CLOSED: N_("cli.polls.status.closed"),
    PollStatus.CANCELLED: N_("cli.polls.status.cancelled"),
}
TITLE_SHOWN = 48


def _when(value: datetime, settings: Settings) -> str:
    """dd/mm/yyyy HH:MM in the configured zone."""
    return f"{format_date(value, settings.tz)} {value.astimezone(settings.tz):%H:%M}"


def _poll_status(t: Translator, status: str) -> str:
    return t(_POLL_STATUSES[status]) if status in _POLL_STATUSES else status


def _poll_problems(t: Translator, failure: PollFileInvalid) -> typer.Exit:
    """Every problem (up to a screenful) with its place and line, and that nothing was saved."""
    lines = [t("cli.polls.invalid", file=failure.source, count=len(failure.problems))]
    for problem in failure.problems[:MAX_ERRORS_SHOWN]:
        message = t(problem.key, **problem.params) if problem.key else problem.text
        if problem.place:
            message = t("cli.polls.at", place=problem.place, message=message)
        if problem.line:
            message = t("cli.polls.at_line", line=problem.line, message=message)
        lines.append(f"  {message}")
    if len(failure.problems) > MAX_ERRORS_SHOWN:
        more = len(failure.problems) - MAX_ERRORS_SHOWN
        lines.append("  " + t("cli.import.more", count=more))
    return _fail("\n".join(lines))


def _refused(poll_file: PollFile, refused: PollRefused) -> PollFileInvalid:
    """store_poll's own refusal (the checks before it should have caught it), placed."""
    spec, code = poll_file.spec, refused.params.get("code")
    where: tuple[str | int, ...] = ()
    if refused.key == "polls.error_deadline_past":
        where = ("closes",)
    elif code == spec.unit:
        where = ("unit",)
    elif code in spec.units:
        where = ("units", spec.units.index(str(code)))
    return PollFileInvalid(
        poll_file.source, [poll_file.problem(where, refused.key, **refused.params)]
    )


@dataclass(frozen=True)
class _PollCreated:
    poll_id: int | None
    owner: str
    units: list[str]
    size: AudienceSize
    opens_at: datetime
    closes_at: datetime


@polls_app.command("create", help=_tr("cli.polls.help_create"))
def polls_create(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=_tr("cli.polls.help_file"))],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_tr("cli.polls.help_dry_run"))] = False,
) -> None:
    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    now = system_clock()
    try:
        poll_file = read_poll_file(file, tz=settings.tz, now=now)
    except PollFileInvalid as failure:
        raise _poll_problems(t, failure) from None
    spec = poll_file.spec

    async def work(uow: UnitOfWork) -> _PollCreated:
        audience = await check_units(uow, poll_file)
        size = await uow.polls.audience_size(audience.units, [r.value for r in spec.roles])
        try:
            poll = await store_poll(uow, spec, now=now, created_by=None)
        except PollRefused as refused:
            raise _refused(poll_file, refused) from None
        return _PollCreated(
            poll_id=None if dry_run else poll.id,
            owner=f"{audience.owner.name} ({audience.owner.code})",
            units=[u.code for u in audience.units],
            size=size,
            opens_at=poll.opens_at,
            closes_at=poll.closes_at,
        )

    try:
        made = _in_uow(settings, work, source=file.name, commit=not dry_run)
    except PollFileInvalid as failure:
        raise _poll_problems(t, failure) from None
    if made.poll_id is None:
        typer.echo(t("cli.polls.dry_run", title=spec.title))
    else:
        typer.echo(t("cli.polls.created", id=made.poll_id, title=spec.title))
    roles = ", ".join(_role(t, r) for r in spec.roles) or t("cli.polls.all_roles")
    typer.echo(t("cli.polls.owner", unit=made.owner))
    typer.echo(t("cli.polls.audience", units=", ".join(made.units), roles=roles))
    typer.echo(t("cli.polls.audience_size", people=made.size.people, reachable=made.size.reachable))
    opens = _when(made.opens_at, settings)
    if made.opens_at <= now:
        opens = t("cli.polls.opens_now", time=opens)
    typer.echo(t("cli.polls.times", opens=opens, closes=_when(made.closes_at, settings)))
    typer.echo(
        t(
            "cli.polls.questions",
            count=len(spec.questions),
            privacy=t("cli.polls.anonymous") if spec.anonymous else t("cli.polls.named"),
        )
    )
    if spec.show_results:
        typer.echo(t("cli.polls.results_promised"))
    typer.echo(t("cli.polls.nothing_saved") if made.poll_id is None else t("cli.polls.next"))


@polls_app.command("list", help=_tr("cli.polls.help_list"))
def polls_list(
    ctx: typer.Context,
    unit: Annotated[str | None, typer.Option("--unit", help=_tr("cli.help.unit_code"))] = None,
) -> None:
    settings = _settings(ctx)
    t = Translator(settings.default_locale)

    async def work(uow: UnitOfWork) -> list[PollLine]:
        top = None
        if unit is not None:
            top = await uow.units.by_code(unit)
            if top is None:
                raise CliError(N_("cli.unknown_unit"), code=unit)
        return await poll_lines(uow.session, top)

    lines = _in_uow(settings, work)
    if not lines:
        typer.echo(t("cli.polls.none"))
        return
    headers = [
        t("cli.polls.col.id"),
        t("cli.polls.col.status"),
        t("cli.polls.col.title"),
        t("cli.col.unit_code"),
        t("cli.polls.col.deadline"),
        t("cli.polls.col.answered"),
    ]
    rows = [
        [
            str(line.poll.id),
            _poll_status(t, line.poll.status),
            _cut(line.poll.title, TITLE_SHOWN),
            line.unit_code,
            _when(line.poll.closes_at, settings),
            f"{line.answered}/{line.targeted}" if line.poll.status != PollStatus.SCHEDULED else "—",
        ]
        for line in lines
    ]
    typer.echo(_table(headers, rows))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


async def _poll(uow: UnitOfWork, poll_id: int) -> Poll:
    poll = await uow.polls.get(poll_id)
    if poll is None:
        raise CliError(N_("cli.polls.not_found"), id=poll_id)
    return poll


@polls_app.command("close", help=_tr("cli.polls.help_close"))
def polls_close(
    ctx: typer.Context,
    poll_id: Annotated[int, typer.Argument(metavar="ID", help=_tr("cli.polls.help_id"))],
) -> None:
    """Close an open poll before its deadline; organisers (and respondents, if promised)
    are told, as when the scheduler closes it at the deadline."""
    from scheduler.polls import tell_closed

    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    now = system_clock()

    async def work(uow: UnitOfWork) -> tuple[str, int]:
        poll = await _poll(uow, poll_id)
        if poll.status == PollStatus.SCHEDULED:
            raise CliError(N_("cli.polls.close_scheduled"), id=poll_id)
        if poll.status != PollStatus.OPEN:
            raise CliError(
                N_("cli.polls.not_open"), id=poll_id, status=_poll_status(t, poll.status)
            )
        await uow.polls.close(poll, now)
        told = await tell_closed(uow, poll, settings, now)
        uow.audit.record("poll.closed_early", "poll", poll.id, actor="cli", told=told)
        return poll.title, told

    title, told = _in_uow(settings, work)
    typer.echo(t("cli.polls.closed", id=poll_id, title=title, count=told))


@polls_app.command("cancel", help=_tr("cli.polls.help_cancel"))
def polls_cancel(
    ctx: typer.Context,
    poll_id: Annotated[int, typer.Argument(metavar="ID", help=_tr("cli.polls.help_id"))],
) -> None:
    settings = _settings(ctx)
    t = Translator(settings.default_locale)

    async def work(uow: UnitOfWork) -> str:
        poll = await _poll(uow, poll_id)
        if poll.status != PollStatus.SCHEDULED:
            raise CliError(
                N_("cli.polls.not_scheduled"), id=poll_id, status=_poll_status(t, poll.status)
            )
        poll.status = PollStatus.CANCELLED
        uow.session.add(poll)
        uow.audit.record("poll.cancelled", "poll", poll.id, actor="cli")
        return poll.title

    title = _in_uow(settings, work)
    typer.echo(t("cli.polls.cancelled", id=poll_id, title=title))


async def _results_view(
    uow: UnitOfWork, poll_id: int, unit: str | None, settings: Settings
) -> tuple[Poll, PollResults]:
    """The poll's results as seen from ``unit`` (default: the poll's own unit)."""
    from handlers.polls.results import build_results
    from storage.poll_results import load_counts

    poll = await _poll(uow, poll_id)
    owner = await uow.units.get(poll.unit_id)
    assert owner is not None and poll.id is not None
    view = owner
    if unit is not None:
        found = await uow.units.by_code(unit)
        if found is None:
            raise CliError(N_("cli.unknown_unit"), code=unit)
        if not (found.path.startswith(owner.path) or owner.path.startswith(found.path)):
            raise CliError(N_("cli.polls.unit_unrelated"), code=unit, owner=owner.code)
        view = found
    questions = await uow.polls.questions(poll.id)
    subtree = list(await uow.units.subtree(view))
    counts = await load_counts(uow.session, poll.id)
    return poll, build_results(poll, questions, subtree, counts, tz=settings.tz)


async def _common_terms(
    uow: UnitOfWork, poll: Poll, results: PollResults
) -> dict[int, list[tuple[str, int]]]:
    """The most used words of each free-text question, from the viewed units only
    (in an anonymous poll, only words at least MIN_CELL people used)."""
    from handlers.polls.words import top_terms
    from storage.poll_results import load_texts

    inside = {u.id for u in await uow.units.subtree(results.unit)}
    terms: dict[int, list[tuple[str, int]]] = {}
    for result in results.questions:
        question = result.question
        if question.kind != QuestionKind.TEXT or question.id is None:
            continue
        texts = [a.text for a in await load_texts(uow.session, question.id) if a.unit_id in inside]
        terms[question.id] = top_terms(texts, min_count=MIN_CELL if poll.anonymous else 1)
    return terms


@polls_app.command("results", help=_tr("cli.polls.help_results"))
def polls_results(
    ctx: typer.Context,
    poll_id: Annotated[int, typer.Argument(metavar="ID", help=_tr("cli.polls.help_id"))],
    unit: Annotated[
        str | None, typer.Option("--unit", help=_tr("cli.polls.help_results_unit"))
    ] = None,
) -> None:
    from handlers.polls.results import results_text

    settings = _settings(ctx)
    t = Translator(settings.default_locale)

    async def work(uow: UnitOfWork) -> str:
        poll, results = await _results_view(uow, poll_id, unit, settings)
        return results_text(results, t, await _common_terms(uow, poll, results))

    typer.echo(_in_uow(settings, work, commit=False))


@polls_app.command("export", help=_tr("cli.polls.help_export"))
def polls_export(
    ctx: typer.Context,
    poll_id: Annotated[int, typer.Argument(metavar="ID", help=_tr("cli.polls.help_id"))],
    out: Annotated[Path, typer.Option("--out", help=_tr("cli.polls.help_out"))],
    unit: Annotated[
        str | None, typer.Option("--unit", help=_tr("cli.polls.help_results_unit"))
    ] = None,
) -> None:
    from handlers.polls.export import poll_workbook
    from storage.poll_results import load_raw_answers

    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    if out.suffix.lower() != ".xlsx":
        raise _fail(t("cli.polls.out_suffix", file=str(out)))
    if not out.resolve().parent.is_dir():
        raise _fail(t("cli.members.codes_out_dir", file=str(out)))

    async def work(uow: UnitOfWork) -> tuple[bytes, str, str]:
        poll, results = await _results_view(uow, poll_id, unit, settings)
        raw = None
        if not poll.anonymous:
            inside = {u.id for u in await uow.units.subtree(results.unit)}
            raw = [r for r in await load_raw_answers(uow.session, poll) if r.unit_id in inside]
        terms = await _common_terms(uow, poll, results)
        data = poll_workbook(results, [r.question for r in results.questions], raw, t, terms=terms)
        uow.audit.record("poll.exported", "poll", poll.id, actor="cli", unit=results.unit.code)
        return data, poll.title, results.unit.name

    data, title, unit_name = _in_uow(settings, work)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise _fail(t("cli.members.codes_not_saved", file=str(out), error=exc)) from None
    typer.echo(t("cli.polls.exported", file=str(out), title=title, unit=unit_name))


# --- visits ("1+2") --------------------------------------------------------------------

visits_app = typer.Typer(no_args_is_help=True, help=_tr("freport.cli_help"))
app.add_typer(visits_app, name="visits")


def _report_day(t: Translator, text: str | None, today: date) -> date:
    """The --as-of day (default today); a day not understood, or still to come, exits 1."""
    from bot.formatting import dmy
    from handlers.fieldvisits.report import read_as_of

    if text is None:
        return today
    found = read_as_of(text, today)
    if found is None:
        raise _fail(t("freport.cli_bad_date", text=text))
    if found > today:
        raise _fail(t("freport.cli_future", date=dmy(found), today=dmy(today)))
    return found


@visits_app.command("report", help=_tr("freport.cli_help_report"))
def visits_report(
    ctx: typer.Context,
    unit: Annotated[str, typer.Option("--unit", help=_tr("cli.help.unit_code"))],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help=_tr("freport.cli_help_as_of"))
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help=_tr("freport.cli_help_out"))] = None,
) -> None:
    """The committee's report of a unit's subtree, as in chat; --out also writes the file."""
    from handlers.fieldvisits.export import visit_workbook
    from handlers.fieldvisits.report import load_report
    from handlers.fieldvisits.report_text import report_text

    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    day = _report_day(t, as_of, system_clock().astimezone(settings.tz).date())
    if out is not None:
        _check_report_file(t, out)

    async def work(uow: UnitOfWork) -> tuple[str, bytes | None]:
        top = await uow.units.by_code(unit)
        if top is None:
            raise CliError(N_("cli.unknown_unit"), code=unit)
        report = await load_report(uow, top, day, settings.tz, days=out is not None)
        if out is None:
            return report_text(report, t), None
        uow.audit.record(
            "visits.report_exported", "unit", top.id, actor="cli", as_of=day.isoformat()
        )
        return report_text(report, t), visit_workbook(report, t)

    # Reading changes nothing; only an export is recorded (the audit entry).
    text, data = _in_uow(settings, work, commit=out is not None)
    typer.echo(text)
    if out is not None and data is not None:
        _save_report_file(t, out, data)


def _check_report_file(t: Translator, out: Path) -> None:
    """A report's Excel file is written only as .xlsx, into a folder that exists."""
    if out.suffix.lower() != ".xlsx":
        raise _fail(t("freport.cli_out_suffix", file=str(out)))
    if not out.resolve().parent.is_dir():
        raise _fail(t("freport.cli_out_dir", file=str(out)))


def _save_report_file(t: Translator, out: Path, data: bytes) -> None:
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise _fail(t("freport.cli_not_saved", file=str(out), error=exc)) from None
    typer.echo(t("freport.cli_saved", file=str(out)))


# --- "1+1" -----------------------------------------------------------------------------

oneplusone_app = typer.Typer(no_args_is_help=True, help=_tr("r11report.cli_help"))
app.add_typer(oneplusone_app, name="oneplusone")
FIRST_YEAR = 2000


def _report_year(t: Translator, year: int | None, this_year: int) -> int:
    """The --year (default this one); a year before 2000 or still to come exits 1."""
    if year is None:
        return this_year
    if not FIRST_YEAR <= year <= this_year:
        raise _fail(t("r11report.cli_bad_year", year=year, first=FIRST_YEAR, last=this_year))
    return year


def _oneplusone(
    ctx: typer.Context, unit: str, year: int | None, *, export: bool
) -> tuple[Translator, Report, bytes | None]:
    """The report (a branch with no units under it: the branch report, names and all; the
    operator may read it) and, with ``export``, its workbook, recorded in the audit log."""
    from handlers.oneplusone.report_build import load_report

    settings = _settings(ctx)
    t = Translator(settings.default_locale)
    today = system_clock().astimezone(settings.tz).date()
    wanted = _report_year(t, year, today.year)

    async def work(uow: UnitOfWork) -> tuple[Report, bytes | None]:
        top = await uow.units.by_code(unit)
        if top is None:
            raise CliError(N_("cli.unknown_unit"), code=unit)
        report = await load_report(uow, top, wanted, settings, today, names=True)
        if not export:
            return report, None
        from handlers.oneplusone.export import report_workbook

        uow.audit.record("oneplusone.report_exported", "unit", top.id, actor="cli", year=wanted)
        return report, report_workbook(report, t)

    # Reading changes nothing; only an export is recorded (the audit entry).
    report, data = _in_uow(settings, work, commit=export)
    return t, report, data


@oneplusone_app.command("report", help=_tr("r11report.cli_help_report"))
def oneplusone_report(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(metavar="UNIT_CODE", help=_tr("cli.help.unit_code"))],
    year: Annotated[int | None, typer.Option("--year", help=_tr("r11report.cli_help_year"))] = None,
) -> None:
    from handlers.oneplusone.report_text import report_text

    t, report, _ = _oneplusone(ctx, unit, year, export=False)
    typer.echo(report_text(report, t))


@oneplusone_app.command("export", help=_tr("r11report.cli_help_export"))
def oneplusone_export(
    ctx: typer.Context,
    unit: Annotated[str, typer.Argument(metavar="UNIT_CODE", help=_tr("cli.help.unit_code"))],
    year: Annotated[int | None, typer.Option("--year", help=_tr("r11report.cli_help_year"))] = None,
    out: Annotated[Path | None, typer.Option("--out", help=_tr("r11report.cli_help_out"))] = None,
) -> None:
    from handlers.oneplusone.export import workbook_name

    t = Translator(_settings(ctx).default_locale)
    if out is not None:
        _check_report_file(t, out)
    t, report, data = _oneplusone(ctx, unit, year, export=True)
    assert data is not None
    _save_report_file(t, out or Path(workbook_name(report)), data)


# --- running the bot (bodies live elsewhere) -------------------------------------------


@app.command("run", help=_tr("cli.help.run"))
def run(
    ctx: typer.Context,
    webhook: Annotated[bool, typer.Option("--webhook", help=_tr("cli.help.webhook"))] = False,
) -> None:
    from bot.runner import run_bot

    asyncio.run(run_bot(_settings(ctx), webhook=webhook))


@app.command("demo", help=_tr("cli.help.demo"))
def demo() -> None:
    from bot.sandbox.demo import run_demo

    run_demo()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
