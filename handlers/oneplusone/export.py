""" "1+1" reports as an Excel workbook, in the house style of the "1+2" one.

Sheets: the summary (the union's figures, the year, the day, the per-member target),
the units under the report's unit (roll-up only), one row per branch; for a branch
report also its members and its young people, by name. A roll-up names nobody: it is
built from a :class:`Report` without members or recruits. Dates are real Excel dates
shown dd/mm/yyyy; what members typed (activities) is written as text, never a formula.
"""

from __future__ import annotations

import io

from openpyxl import Workbook

from bot.i18n import N_, Translator
from handlers import sheets
from handlers.oneplusone.common import relation_label, stage_label
from handlers.oneplusone.report_build import Figures, Report
from handlers.oneplusone.report_text import (
    consent_label,
    grade_label,
    group_name,
    target_label,
    totals_line,
)


def workbook_name(report: Report) -> str:
    """``bao-cao-1-1-AP-2026-20261122.xlsx``: the unit, the year and the day."""
    return f"bao-cao-1-1-{report.unit_code}-{report.year}-{report.as_of:%Y%m%d}.xlsx"


def report_workbook(report: Report, t: Translator) -> bytes:
    """The .xlsx file of ``report``."""
    book = Workbook(write_only=True)
    _summary(book.create_sheet(t("r11report.sheet_summary")), report, t)
    if not report.named:
        _groups(book.create_sheet(t("r11report.sheet_units")), report, t)
    _branches(book.create_sheet(t("r11report.sheet_branches")), report, t)
    if report.named:
        _members(book.create_sheet(t("r11report.sheet_members")), report, t)
        _recruits(book.create_sheet(t("r11report.sheet_recruits")), report, t)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _facts(report: Report, t: Translator) -> list[tuple[str, object, str | None] | None]:
    f = report.totals
    return [
        (t("r11report.field_unit"), f"{report.unit_name} ({report.unit_code})", None),
        (t("r11report.field_year"), report.year, None),
        (t("r11report.field_as_of"), report.as_of, sheets.DATE_FORMAT),
        (t("r11report.field_target"), target_label(report), None),
        None,
        (t("r11report.field_branches"), f.branches, None),
        (t("r11report.field_carried_out"), f.carried_out, None),
        (t("r11report.field_carried_share"), f.carried_share, sheets.PERCENT),
        (t("r11report.field_planned"), f.planned, None),
        (t("r11report.field_evaluated"), f.evaluated, None),
        (t("r11report.field_reached_target"), f.reached_target, None),
        (t("r11report.field_members"), f.members, None),
        (t("r11report.field_reached"), f.reached, None),
        (t("r11report.field_reached_share"), f.reached_share, sheets.PERCENT),
        (t("r11report.field_recorded"), f.recorded, None),
        (t("r11report.field_took_part"), f.took_part, None),
        (t("r11report.field_joined_union"), f.joined_union, None),
        (t("r11report.field_joined_federation"), f.joined_federation, None),
        (t("r11report.field_declined"), f.declined, None),
        (t("r11report.field_waiting_young"), f.waiting_young, None),
        (t("r11report.field_waiting_secretary"), f.waiting_secretary, None),
    ]


def _summary(sheet: sheets.Sheet, report: Report, t: Translator) -> None:
    sheets.widths(sheet, [44, 36])
    heading = t("r11report.xls_title", unit=report.unit_name, year=report.year)
    sheet.append([sheets.cell(sheet, heading, font=sheets.TITLE)])
    sheet.append([sheets.cell(sheet, totals_line(report.totals, t))])
    for fact in _facts(report, t):
        if fact is None:
            sheet.append([])
            continue
        label, value, fmt = fact
        sheet.append(
            [sheets.cell(sheet, label, font=sheets.BOLD), sheets.cell(sheet, value, fmt=fmt)]
        )


COUNT_COLUMNS = (
    N_("r11report.col_members"),
    N_("r11report.col_reached"),
    N_("r11report.col_took_part"),
    N_("r11report.col_joined_union"),
    N_("r11report.col_joined_federation"),
    N_("r11report.col_declined"),
    N_("r11report.col_waiting_young"),
    N_("r11report.col_waiting_secretary"),
)


def _counts(f: Figures) -> list[object]:
    return [
        f.members,
        f.reached,
        f.took_part,
        f.joined_union,
        f.joined_federation,
        f.declined,
        f.waiting_young,
        f.waiting_secretary,
    ]


GROUP_COLUMNS = (
    N_("r11report.col_code"),
    N_("r11report.col_unit"),
    N_("r11report.col_branches"),
    N_("r11report.col_carried_out"),
    N_("r11report.col_carried_share"),
    *COUNT_COLUMNS,
)


def _groups(sheet: sheets.Sheet, report: Report, t: Translator) -> None:
    sheets.table(sheet, t, GROUP_COLUMNS, [16, 36, *[11] * (len(GROUP_COLUMNS) - 2)], "C2")
    for group in report.slowest_first():
        f = group.figures
        sheet.append(
            [
                sheets.cell(sheet, group.code),
                sheets.cell(sheet, group_name(group, t)),
                f.branches,
                f.carried_out,
                sheets.cell(sheet, f.carried_share if f.branches else None, fmt=sheets.PERCENT),
                *_counts(f),
            ]
        )


BRANCH_COLUMNS = (
    N_("r11report.col_code"),
    N_("r11report.col_branch"),
    N_("r11report.col_per_member"),
    N_("r11report.col_target"),
    *COUNT_COLUMNS,
    N_("r11report.col_surveyed"),
    N_("r11report.col_planned"),
    N_("r11report.col_planned_on"),
    N_("r11report.col_evaluated"),
    N_("r11report.col_grade"),
    N_("r11report.col_branch_carried_out"),
    N_("r11report.col_reached_target"),
)


def _branches(sheet: sheets.Sheet, report: Report, t: Translator) -> None:
    sheets.table(sheet, t, BRANCH_COLUMNS, [16, 48, *[11] * (len(BRANCH_COLUMNS) - 2)], "C2")
    for b in report.branches:
        f = b.figures
        sheet.append(
            [
                sheets.cell(sheet, b.code),
                sheets.cell(sheet, b.path),
                b.per_member,
                f.target,
                *_counts(f),
                b.surveyed,
                sheets.yes(t, b.planned_on is not None),
                sheets.day(sheet, b.planned_on),
                sheets.yes(t, b.evaluated_on is not None),
                grade_label(b, t) if b.evaluated_on or b.grade else None,
                sheets.yes(t, b.carried_out),
                sheets.yes(t, b.reached_target),
            ]
        )


MEMBER_COLUMNS = (
    N_("r11report.col_name"),
    N_("r11report.col_on_bot"),
    N_("r11report.col_counted"),
    N_("r11report.col_target"),
    N_("r11report.col_member_reached"),
)


def _members(sheet: sheets.Sheet, report: Report, t: Translator) -> None:
    sheets.table(sheet, t, MEMBER_COLUMNS, [30, 12, 12, 12, 12], "B2")
    for m in report.members or ():
        p = m.progress
        row = [sheets.cell(sheet, m.name), sheets.yes(t, not m.invited), p.counted, p.target]
        sheet.append([*row, sheets.yes(t, p.reached)])


RECRUIT_COLUMNS = (
    N_("r11report.col_young_person"),
    N_("r11report.col_relation"),
    N_("r11report.col_brought_by"),
    N_("r11report.col_activity"),
    N_("r11report.col_activity_on"),
    N_("r11report.col_stage"),
    N_("r11report.col_consent"),
    N_("r11report.col_counts"),
    N_("r11report.col_awaits_secretary"),
)


def _recruits(sheet: sheets.Sheet, report: Report, t: Translator) -> None:
    sheets.table(sheet, t, RECRUIT_COLUMNS, [30, 14, 30, 40, 12, 22, 40, 11, 14], "B2")
    for r in report.recruits or ():
        record = r.record
        sheet.append(
            [
                sheets.cell(sheet, r.name or t("r11.anonymous")),
                relation_label(t, record.relation) if r.name and record.relation else None,
                sheets.cell(sheet, r.member) if r.member else None,
                sheets.cell(sheet, record.activity) if record.activity else None,
                sheets.day(sheet, record.activity_on),
                stage_label(t, record),
                consent_label(r, t),
                sheets.yes(t, r.counts),
                sheets.yes(t, r.awaits_secretary),
            ]
        )
