"""Writing Excel sheets the house way (openpyxl write-only): real dates shown dd/mm/yyyy,
bold frozen headers, and people's own words always written as text, never run as a
formula. Shared by the "1+1" and "1+2" reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.i18n import Translator

DATE_FORMAT = "DD/MM/YYYY"
PERCENT = "0%"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADING = Font(bold=True, size=12)
Sheet = Any  # openpyxl's WriteOnlyWorksheet (untyped)


def cell(sheet: Sheet, value: object, *, fmt: str | None = None, font: Font | None = None) -> Any:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if fmt is None and font is None and not (isinstance(value, str) and value.startswith("=")):
        return value  # a plain value: cheaper than a cell object
    made = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        made.data_type = "s"  # a note is never run as a formula
    if fmt:
        made.number_format = fmt
    if font:
        made.font = font
    return made


def row(sheet: Sheet, values: Iterable[object], *, font: Font | None = None) -> None:
    sheet.append([cell(sheet, v, font=font) for v in values])


def widths(sheet: Sheet, widths: Iterable[int]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def yes(t: Translator, value: bool) -> str:
    return t("freport.yes") if value else t("freport.no")


def day(sheet: Sheet, value: date | None) -> Any:
    return None if value is None else cell(sheet, value, fmt=DATE_FORMAT)  # a real Excel date


def table(
    sheet: Sheet, t: Translator, columns: Iterable[str], widths_: Iterable[int], freeze: str
) -> None:
    """Start a table: column widths, the translated headers in bold, panes frozen at
    ``freeze`` (the header row, and the naming columns to its left)."""
    sheet.freeze_panes = freeze
    widths(sheet, widths_)
    row(sheet, [t(key) for key in columns], font=BOLD)
