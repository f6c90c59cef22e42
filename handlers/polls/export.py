"""Poll results as an Excel workbook (the unions exchange data as XLSX).

A summary sheet (the poll and the response rate per unit), one sheet per question
with its per-unit breakdown, and for a named poll only, every answer by name. The
workbook is built from ``PollResults``, so an anonymous poll's hidden cells are
written as the hidden mark and their numbers appear nowhere in the file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.i18n import Translator
from handlers.polls.results import (
    PollResults,
    QuestionResult,
    Row,
    hidden_mark,
    option_label,
    option_numbers,
    rate_label,
    row_label,
)
from storage.models import MIN_CELL, PollQuestion, QuestionKind
from storage.poll_results import Participation, RawAnswer

SHEET_NAME_MAX = 31  # Excel's limit
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
DATE_FORMAT = "DD/MM/YYYY"
TIME_FORMAT = "DD/MM/YYYY HH:MM"
BOLD = Font(bold=True)
WIDTH_MIN, WIDTH_MAX = 8, 50


def poll_workbook(
    results: PollResults,
    questions: Sequence[PollQuestion] | Sequence[QuestionResult],
    raw_rows: Sequence[RawAnswer] | None,
    t: Translator,
    *,
    terms: Mapping[int, Sequence[tuple[str, int]]] | None = None,
) -> bytes:
    """The .xlsx file of a poll's results as seen by the viewer of ``results``.

    ``raw_rows`` (``storage.poll_results.load_raw_answers``) adds the answers by name;
    it is ignored for an anonymous poll; ``questions`` (questions or their results)
    name the questions it refers to. ``terms`` may give, per free-text question
    id, its most used words (``words.top_terms``).
    """
    book = Workbook()
    taken: set[str] = set()
    summary = book.active
    assert summary is not None
    summary.title = _sheet_name(t("pollres.sheet_summary"), taken)
    _summary(summary, results, t)
    for result in results.questions:
        question = result.question
        name = t("pollres.sheet_question", n=question.position) + " " + question.text
        sheet = book.create_sheet(_sheet_name(name, taken))
        _question(sheet, result, t, (terms or {}).get(question.id or 0, ()))
    if raw_rows and not results.poll.anonymous:
        sheet = book.create_sheet(_sheet_name(t("pollres.sheet_raw"), taken))
        asked = [q.question if isinstance(q, QuestionResult) else q for q in questions]
        by_id = {q.id: q for q in [*asked, *(r.question for r in results.questions)]}
        _raw(sheet, raw_rows, by_id, results.tz, t)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_name(text: str, taken: set[str]) -> str:
    """Fits Excel's rules: at most 31 characters, none of []:*?/\\, unique ignoring case."""
    clean = " ".join(_SHEET_BAD.sub(" ", text).split()).strip("'")
    base = clean[:SHEET_NAME_MAX].rstrip() or "-"
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name, n = base[: SHEET_NAME_MAX - len(suffix)].rstrip() + suffix, n + 1
    taken.add(name.casefold())
    return name


def _put(sheet: Worksheet, row: int, column: int, value: object, **style: object) -> None:
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # people's words are never run as a formula
    for name, setting in style.items():
        setattr(cell, name, setting)


def _line(sheet: Worksheet, row: int, values: Iterable[object], **style: object) -> None:
    for column, value in enumerate(values, start=1):
        _put(sheet, row, column, value, **style)


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    """Excel has no time zones: the local time, as people read it."""
    return value.astimezone(tz).replace(tzinfo=None)


def _fit(sheet: Worksheet, widths: Mapping[int, int] | None = None) -> None:
    """Column widths from their contents (or as given), within readable limits."""
    longest: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None and not isinstance(cell.value, datetime):
                size = max(len(part) for part in str(cell.value).split("\n"))
                longest[cell.column] = max(longest.get(cell.column, 0), size)
            elif isinstance(cell.value, datetime):
                longest[cell.column] = max(longest.get(cell.column, 0), 16)
    for column, size in {**longest, **(widths or {})}.items():
        width = min(max(size + 2, WIDTH_MIN), WIDTH_MAX)
        sheet.column_dimensions[get_column_letter(column)].width = width


def _summary(sheet: Worksheet, results: PollResults, t: Translator) -> None:
    poll = results.poll
    _put(sheet, 1, 1, poll.title, font=Font(bold=True, size=14))
    facts: list[tuple[str, object, str | None]] = [
        (t("pollres.col_unit"), results.unit.name, None),
        (t("pollres.field_opens"), _local(poll.opens_at, results.tz), DATE_FORMAT),
        (t("pollres.field_closes"), _local(poll.closes_at, results.tz), DATE_FORMAT),
        (
            t("pollres.field_mode"),
            t("pollres.anonymous") if poll.anonymous else t("pollres.named"),
            None,
        ),
    ]
    for row, (label, value, number_format) in enumerate(facts, start=3):
        _put(sheet, row, 1, label, font=BOLD)
        _put(sheet, row, 2, value, alignment=Alignment(horizontal="left"))
        if number_format:
            sheet.cell(row=row, column=2).number_format = number_format
    head = 3 + len(facts) + 1
    _line(
        sheet,
        head,
        [
            t("pollres.col_unit"),
            t("pollres.col_targeted"),
            t("pollres.col_reached"),
            t("pollres.col_answered"),
            t("pollres.col_rate"),
        ],
        font=BOLD,
    )
    lines = [(t("pollres.total"), results.participation, BOLD)]
    lines += [(rate_label(r, t), r.participation, Font()) for r in results.rates]
    for row, (label, people, font) in enumerate(lines, start=head + 1):
        _participation(sheet, row, label, people, font)
    sheet.freeze_panes = sheet.cell(row=head + 1, column=2)
    _fit(sheet, {1: max(len(label) for label, _, _ in lines)})


def _participation(
    sheet: Worksheet, row: int, label: str, people: Participation, font: Font
) -> None:
    values = [label, people.targeted, people.reached, people.answered, people.rate]
    _line(sheet, row, values, font=font)
    sheet.cell(row=row, column=5).number_format = "0%"


def _question(
    sheet: Worksheet, result: QuestionResult, t: Translator, terms: Sequence[tuple[str, int]]
) -> None:
    question = result.question
    title = t("pollres.question_title", n=question.position, text=question.text)
    _put(sheet, 1, 1, title, font=Font(bold=True, size=13))
    rows = [result.total, *result.rows] if result.total else []
    if result.total is None:
        note = t("pollres.too_few", n=MIN_CELL) if result.too_few else t("pollres.no_answers")
        _put(sheet, 2, 1, note)
        _fit(sheet, {1: 40})
        return
    if any(cell.hidden for row in rows for cell in row.cells):
        _put(sheet, 2, 1, t("pollres.hidden_note", mark=hidden_mark(t), n=MIN_CELL))
    options = option_numbers(question)
    header = [t("pollres.col_unit"), t("pollres.col_respondents")]
    header += [option_label(question, o, t) for o in options]
    scale = question.kind == QuestionKind.SCALE
    if scale:
        header.append(t("pollres.col_mean"))
    head = 4
    _line(sheet, head, header, font=BOLD, alignment=Alignment(wrap_text=True, vertical="top"))
    for offset, row in enumerate(rows, start=1):
        _breakdown(sheet, head + offset, row, t, scale, bold=offset == 1)
    sheet.freeze_panes = sheet.cell(row=head + 1, column=2)
    end = head + len(rows) + 2
    if terms:
        _line(sheet, end, [t("pollres.col_term"), t("pollres.col_answers")], font=BOLD)
        for offset, (term, n) in enumerate(terms, start=1):
            _line(sheet, end + offset, [term, n])
    widths = {1: max(len(row_label(r, t)) for r in rows)}
    widths.update({column: 14 for column in range(3, len(header) + 1)})
    _fit(sheet, widths)


def _breakdown(
    sheet: Worksheet, at: int, row: Row, t: Translator, scale: bool, *, bold: bool
) -> None:
    values: list[object] = [row_label(row, t), row.respondents]
    values += [hidden_mark(t) if cell.count is None else cell.count for cell in row.cells]
    if scale:
        values.append(round(row.mean, 2) if row.mean is not None else hidden_mark(t))
    _line(sheet, at, values, font=Font(bold=bold))
    for column in range(3, len(values) + 1):
        sheet.cell(row=at, column=column).alignment = Alignment(horizontal="right")


def _raw(
    sheet: Worksheet,
    raw_rows: Sequence[RawAnswer],
    questions: Mapping[int | None, PollQuestion],
    tz: ZoneInfo,
    t: Translator,
) -> None:
    header = [
        t("pollres.col_person"),
        t("pollres.col_unit"),
        t("pollres.col_question"),
        t("pollres.col_answer"),
        t("pollres.col_time"),
    ]
    _line(sheet, 1, header, font=BOLD)
    for at, raw in enumerate(raw_rows, start=2):
        question = questions.get(raw.question_id)
        if question is None:
            continue
        values: list[object] = [
            raw.person_name or t("pollres.deleted_person"),
            raw.unit_name,
            t("pollres.question_title", n=question.position, text=question.text),
            _answer_text(question, raw, t),
            _local(raw.answered_at, tz) if raw.answered_at else None,
        ]
        _line(sheet, at, values)
        sheet.cell(row=at, column=5).number_format = TIME_FORMAT
    sheet.freeze_panes = "A2"
    _fit(sheet, {3: 40, 4: 50})


def _answer_text(question: PollQuestion, raw: RawAnswer, t: Translator) -> str:
    """One answer in words: the options picked, "other: …", or what was written."""
    if question.kind == QuestionKind.TEXT:
        return raw.text or ""
    words = []
    for option in raw.options:
        if question.kind != QuestionKind.SCALE and option > len(question.options):
            words.append(t("pollres.other_answer", text=raw.text or ""))
        else:
            words.append(option_label(question, option, t))
    return "; ".join(words)
