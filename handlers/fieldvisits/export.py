"""The "1+2" report as an Excel workbook (the unions exchange data as XLSX).

Three sheets: the summary (the report's numbers, the day, the rules used, late trip
reports), one row per cadre, and one row per counted day. Dates are real Excel dates
shown dd/mm/yyyy; headers are bold and frozen. Cadres' own words (notes, trip themes)
are written as text, never as formulas.

The workbook is written row by row (openpyxl's write-only mode): a province's days
sheet has tens of thousands of rows, and this is about a third faster than building
the cells in memory first, in a fraction of the memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.i18n import N_, Translator
from handlers.fieldvisits.report_build import CadreLine, VisitReport, share
from handlers.fieldvisits.report_text import reason_label
from storage.models import VisitKind

DATE_FORMAT = "DD/MM/YYYY"
PERCENT = "0%"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADING = Font(bold=True, size=12)
KINDS = {
    VisitKind.TRIP: N_("freport.kind_trip"),
    VisitKind.ACTIVITY: N_("freport.kind_activity"),
    VisitKind.INSPECTION: N_("freport.kind_inspection"),
    VisitKind.MEETING: N_("freport.kind_meeting"),
    VisitKind.TRAINING: N_("freport.kind_training"),
    VisitKind.OTHER: N_("freport.kind_other"),
}
Sheet = Any  # openpyxl's WriteOnlyWorksheet (untyped)


def kind_label(kind: str, t: Translator) -> str:
    return t(KINDS[VisitKind(kind)]) if kind in set(VisitKind) else kind


def workbook_name(report: VisitReport) -> str:
    """``bao-cao-1-2-AP-20261115.xlsx``: the unit and the day, no spaces or accents."""
    return f"bao-cao-1-2-{report.unit_code}-{report.as_of:%Y%m%d}.xlsx"


def visit_workbook(report: VisitReport, t: Translator) -> bytes:
    """The .xlsx file of ``report`` (built with ``days=True`` for the days sheet)."""
    book = Workbook(write_only=True)
    _summary(book.create_sheet(t("freport.sheet_summary")), report, t)
    _cadres(book.create_sheet(t("freport.sheet_cadres")), report, t)
    _days(book.create_sheet(t("freport.sheet_days")), report, t)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- cells ---------------------------------------------------------------------------


def _cell(sheet: Sheet, value: object, *, fmt: str | None = None, font: Font | None = None) -> Any:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if fmt is None and font is None and not (isinstance(value, str) and value.startswith("=")):
        return value  # a plain value: cheaper than a cell object
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # a note is never run as a formula
    if fmt:
        cell.number_format = fmt
    if font:
        cell.font = font
    return cell


def _row(sheet: Sheet, values: Iterable[object], *, font: Font | None = None) -> None:
    sheet.append([_cell(sheet, v, font=font) for v in values])


def _widths(sheet: Sheet, widths: Iterable[int]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _yes(t: Translator, value: bool) -> str:
    return t("freport.yes") if value else t("freport.no")


def _day(sheet: Sheet, day: date | None) -> Any:
    return None if day is None else _cell(sheet, day, fmt=DATE_FORMAT)  # a real Excel date


# --- sheets --------------------------------------------------------------------------


def _facts(report: VisitReport, t: Translator) -> list[tuple[str, object, str | None]]:
    rules, measured = report.rules, len(report.measured)
    reasons = sorted(report.exempt_by_reason.items())
    return [
        (t("freport.field_unit"), f"{report.unit_name} ({report.unit_code})", None),
        (t("freport.field_as_of"), report.as_of, DATE_FORMAT),
        (t("freport.field_window_first"), report.window[0], DATE_FORMAT),
        (t("freport.field_window_last"), report.window[1], DATE_FORMAT),
        (t("freport.field_target"), rules.target_days, None),
        (t("freport.field_trips_required"), rules.trips_required, None),
        (t("freport.field_trip_days"), f"{rules.trip_min_days}–{rules.trip_max_days}", None),
        (t("freport.field_report_due"), rules.report_due_days, None),
        (t("freport.field_tolerance"), rules.pace_tolerance_days, None),
        ("", None, None),
        (t("freport.field_total"), report.total, None),
        (t("freport.field_exempt"), report.exempt, None),
        *((t("freport.field_reason", reason=reason_label(r, t)), n, None) for r, n in reasons),
        (t("freport.field_measured"), measured, None),
        (t("freport.field_went"), report.went, None),
        (t("freport.field_reached"), report.reached, None),
        (t("freport.field_reached_of_went"), share(report.reached, report.went), PERCENT),
        (t("freport.field_reached_of_measured"), share(report.reached, measured), PERCENT),
        (t("freport.field_reached_of_total"), share(report.reached, report.total), PERCENT),
        (t("freport.field_not_going"), report.not_going, None),
        (t("freport.field_trips_done"), report.trips_done, None),
        (t("freport.field_enough_trips"), report.enough_trips, None),
        (t("freport.field_late"), len(report.late_reports), None),
        (t("freport.field_behind"), len(report.behind()), None),
    ]


LATE_COLUMNS = (
    N_("freport.col_name"),
    N_("freport.col_trip"),
    N_("freport.col_trip_end"),
    N_("freport.col_due"),
    N_("freport.col_filed"),
)


def _summary(sheet: Sheet, report: VisitReport, t: Translator) -> None:
    _widths(sheet, [44, 30, 14, 14, 14])
    sheet.append([_cell(sheet, t("freport.xls_title", unit=report.unit_name), font=TITLE)])
    sheet.append([])
    for label, value, fmt in _facts(report, t):
        shown = "—" if value is None and label else value  # a share of nobody
        sheet.append([_cell(sheet, label, font=BOLD), _cell(sheet, shown, fmt=fmt)])
    sheet.append([])
    sheet.append([_cell(sheet, t("freport.late_title"), font=HEADING)])
    _row(sheet, [t(key) for key in LATE_COLUMNS], font=BOLD)
    for late in report.late_reports:
        days = [_day(sheet, d) for d in (late.ended_on, late.due, late.filed_on)]
        sheet.append([_cell(sheet, late.name), _cell(sheet, late.theme), *days])


def _status(cadre: CadreLine, t: Translator) -> tuple[str, str]:
    if cadre.measured:
        return t("freport.status_subject"), ""
    reason = reason_label(str(cadre.summary.exemption), t)
    note = cadre.exemption_note
    return t("freport.status_exempt"), f"{reason} ({note})" if note else reason


CADRE_COLUMNS = (
    N_("freport.col_name"),
    N_("freport.col_unit"),
    N_("freport.col_status"),
    N_("freport.col_reason"),
    N_("freport.col_days"),
    N_("freport.col_target"),
    N_("freport.col_share"),
    N_("freport.col_expected"),
    N_("freport.col_trips"),
    N_("freport.col_enough_trips"),
    N_("freport.col_late"),
    N_("freport.col_on_pace"),
)


def _cadres(sheet: Sheet, report: VisitReport, t: Translator) -> None:
    sheet.freeze_panes = "B2"
    _widths(sheet, [28, 30, 12, 34, 9, 9, 9, 11, 9, 9, 11, 11])
    _row(sheet, [t(key) for key in CADRE_COLUMNS], font=BOLD)
    target = report.rules.target_days
    for cadre in report.cadres:
        s, measured = cadre.summary, cadre.measured
        status, reason = _status(cadre, t)
        values: list[object] = [
            _cell(sheet, cadre.name),
            _cell(sheet, cadre.unit_name),
            status,
            _cell(sheet, reason),
            s.days,
            target,
            _cell(sheet, share(s.days, target), fmt=PERCENT),
            cadre.pace.expected_by_now,
            s.trips_done,
            _yes(t, s.trips_enough) if measured else "—",  # not measured: nothing to judge
            cadre.late_reports,
            _yes(t, s.on_pace) if measured else "—",
        ]
        sheet.append(values)


DAY_COLUMNS = (
    N_("freport.col_name"),
    N_("freport.col_date"),
    N_("freport.col_visited"),
    N_("freport.col_kind"),
    N_("freport.col_note"),
)


def _days(sheet: Sheet, report: VisitReport, t: Translator) -> None:
    sheet.freeze_panes = "A2"
    _widths(sheet, [28, 12, 32, 30, 50])
    _row(sheet, [t(key) for key in DAY_COLUMNS], font=BOLD)
    kinds = {kind.value: kind_label(kind, t) for kind in VisitKind}
    for cadre in report.cadres:
        plain = _cell(sheet, cadre.name)
        for line in cadre.days:
            sheet.append(
                [
                    plain if isinstance(plain, str) else _cell(sheet, cadre.name),
                    _day(sheet, line.day),
                    _cell(sheet, "; ".join(line.units)) if line.units else None,
                    "; ".join(kinds.get(k, k) for k in line.kinds),
                    _cell(sheet, "; ".join(line.notes)) if line.notes else None,
                ]
            )
