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

from openpyxl import Workbook

from bot.i18n import N_, Translator
from handlers import sheets
from handlers.fieldvisits.report_build import CadreLine, VisitReport, share
from handlers.fieldvisits.report_text import reason_label
from storage.models import VisitKind

KINDS = {
    VisitKind.TRIP: N_("freport.kind_trip"),
    VisitKind.ACTIVITY: N_("freport.kind_activity"),
    VisitKind.INSPECTION: N_("freport.kind_inspection"),
    VisitKind.MEETING: N_("freport.kind_meeting"),
    VisitKind.TRAINING: N_("freport.kind_training"),
    VisitKind.OTHER: N_("freport.kind_other"),
}


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


# --- sheets --------------------------------------------------------------------------


def _facts(report: VisitReport, t: Translator) -> list[tuple[str, object, str | None]]:
    rules, measured = report.rules, len(report.measured)
    reasons = sorted(report.exempt_by_reason.items())
    return [
        (t("freport.field_unit"), f"{report.unit_name} ({report.unit_code})", None),
        (t("freport.field_as_of"), report.as_of, sheets.DATE_FORMAT),
        (t("freport.field_window_first"), report.window[0], sheets.DATE_FORMAT),
        (t("freport.field_window_last"), report.window[1], sheets.DATE_FORMAT),
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
        (t("freport.field_reached_of_went"), share(report.reached, report.went), sheets.PERCENT),
        (t("freport.field_reached_of_measured"), share(report.reached, measured), sheets.PERCENT),
        (t("freport.field_reached_of_total"), share(report.reached, report.total), sheets.PERCENT),
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


def _summary(sheet: sheets.Sheet, report: VisitReport, t: Translator) -> None:
    sheets.widths(sheet, [44, 30, 14, 14, 14])
    sheet.append(
        [sheets.cell(sheet, t("freport.xls_title", unit=report.unit_name), font=sheets.TITLE)]
    )
    sheet.append([])
    for label, value, fmt in _facts(report, t):
        shown = "—" if value is None and label else value  # a share of nobody
        sheet.append(
            [sheets.cell(sheet, label, font=sheets.BOLD), sheets.cell(sheet, shown, fmt=fmt)]
        )
    sheet.append([])
    sheet.append([sheets.cell(sheet, t("freport.late_title"), font=sheets.HEADING)])
    sheets.row(sheet, [t(key) for key in LATE_COLUMNS], font=sheets.BOLD)
    for late in report.late_reports:
        days = [sheets.day(sheet, d) for d in (late.ended_on, late.due, late.filed_on)]
        sheet.append([sheets.cell(sheet, late.name), sheets.cell(sheet, late.theme), *days])


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


def _cadres(sheet: sheets.Sheet, report: VisitReport, t: Translator) -> None:
    sheets.table(sheet, t, CADRE_COLUMNS, [28, 30, 12, 34, 9, 9, 9, 11, 9, 9, 11, 11], "B2")
    target = report.rules.target_days
    for cadre in report.cadres:
        s, measured = cadre.summary, cadre.measured
        status, reason = _status(cadre, t)
        values: list[object] = [
            sheets.cell(sheet, cadre.name),
            sheets.cell(sheet, cadre.unit_name),
            status,
            sheets.cell(sheet, reason),
            s.days,
            target,
            sheets.cell(sheet, share(s.days, target), fmt=sheets.PERCENT),
            cadre.pace.expected_by_now,
            s.trips_done,
            sheets.yes(t, s.trips_enough) if measured else "—",  # not measured: nothing to judge
            cadre.late_reports,
            sheets.yes(t, s.on_pace) if measured else "—",
        ]
        sheet.append(values)


DAY_COLUMNS = (
    N_("freport.col_name"),
    N_("freport.col_date"),
    N_("freport.col_visited"),
    N_("freport.col_kind"),
    N_("freport.col_note"),
)


def _days(sheet: sheets.Sheet, report: VisitReport, t: Translator) -> None:
    sheets.table(sheet, t, DAY_COLUMNS, [28, 12, 32, 30, 50], "A2")
    kinds = {kind.value: kind_label(kind, t) for kind in VisitKind}
    for cadre in report.cadres:
        plain = sheets.cell(sheet, cadre.name)
        for line in cadre.days:
            sheet.append(
                [
                    plain if isinstance(plain, str) else sheets.cell(sheet, cadre.name),
                    sheets.day(sheet, line.day),
                    sheets.cell(sheet, "; ".join(line.units)) if line.units else None,
                    "; ".join(kinds.get(k, k) for k in line.kinds),
                    sheets.cell(sheet, "; ".join(line.notes)) if line.notes else None,
                ]
            )
