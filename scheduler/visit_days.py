"""Reading the days a cadre says they spent at the grassroots ("1+2"). Pure.

A cadre logs field days after the fact, so everything here looks BACKWARDS from
``today`` (unlike :func:`scheduler.recurrence.parse_date`, which looks forward):

* a day and month without a year ("12/11") is the most recent such date on or before
  today; a weekday without a week ("thứ 2") is the most recent such weekday;
* a range or a list of days in one month is read as a whole: its start follows the
  rule above and the rest follows the start, so "28/12-03/01" crosses New Year and
  "12/11-20/11" typed on 18/11 is this year's (and refused as FUTURE), not last year's;
* "tuần này" is Monday to today, "tuần trước" Monday to Sunday of last week.

Accepted forms, with or without diacritics (compared after :func:`bot.matching.fold`):
"hôm nay", "hôm qua", "hôm kia"; "12/11", "12/11/2026", "12-11", "12.11", "ngày 12/11",
"12 tháng 11"; ranges "12/11-16/11", "12/11 - 16/11/2026", "12 đến 16/11",
"từ 12/11 đến 16/11"; lists "12,13,15/11", "12/11, 14/11", "12 và 13/11"; weekdays
"thứ 2", "thứ 2 tuần này", "thứ 2 tuần trước", "thứ 2 đến thứ 4 tuần trước"; weeks
"tuần này", "tuần trước". Anything else is refused with a :class:`DaysProblem`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from bot.matching import fold

# The weekday words ("thứ 2", "thứ hai", "t2", "chủ nhật", "CN") are the meetings'
# words; one reading for both keeps the bot consistent.
from scheduler.recurrence import _weekday_at

__all__ = ["MAX_SPAN_DAYS", "DaysParse", "DaysProblem", "parse_visit_days"]

MAX_SPAN_DAYS = 31


class DaysProblem(StrEnum):
    """Why an entry was refused. The whole entry is refused, never a part of it."""

    NOT_A_DATE = "not_a_date"
    IMPOSSIBLE = "impossible"  # "32/13", "30/2", "29/2/2027"
    FUTURE = "future"  # a day after today
    RANGE_BACKWARDS = "range_backwards"  # "16/11-12/11"
    TOO_LONG = "too_long"  # a range longer than max_span_days


@dataclass(frozen=True, slots=True)
class DaysParse:
    """The outcome of :func:`parse_visit_days`.

    On success ``days`` holds the sorted distinct dates and ``problem`` is None. On
    refusal ``days`` is empty, ``text`` is the offending part as the cadre typed it,
    and ``bad_days`` names the days at fault: the days after today for FUTURE, the
    range's (first, last) day for RANGE_BACKWARDS and TOO_LONG, else empty.
    """

    days: tuple[date, ...] = ()
    problem: DaysProblem | None = None
    text: str = ""
    bad_days: tuple[date, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None


# --- what was typed ----------------------------------------------------------------

Span = tuple[int, int]  # a slice of the original text


@dataclass(frozen=True, slots=True)
class _Day:
    """A typed day of the month; month and year may be missing."""

    day: int
    month: int | None
    year: int | None
    span: Span


@dataclass(frozen=True, slots=True)
class _Weekday:
    weekday: int  # Monday=0
    week: int | None  # 0 = this week, -1 = last week; None = the latest such day
    span: Span


@dataclass(frozen=True, slots=True)
class _Relative:
    offset: int  # days from today
    span: Span


_End = _Day | _Weekday | _Relative


@dataclass(frozen=True, slots=True)
class _Range:
    start: _End
    end: _End
    span: Span


@dataclass(frozen=True, slots=True)
class _Week:
    offset: int
    span: Span


@dataclass(frozen=True, slots=True)
class _Group:
    """Days of one month typed together ("12,13,15/11"), read with one year."""

    days: tuple[_Day, ...]
    month: int
    year: int | None
    span: Span


_Item = _End | _Range | _Week | _Group


class _Refusal(Exception):
    """Raised inside this module to refuse an entry; :func:`parse_visit_days` catches it."""

    def __init__(self, problem: DaysProblem, span: Span, bad_days: tuple[date, ...] = ()):
        super().__init__(problem)
        self.problem, self.span, self.bad_days = problem, span, bad_days


# --- words -------------------------------------------------------------------------

_RELATIVE_DAYS: dict[tuple[str, ...], int] = {
    ("hom", "nay"): 0,
    ("bua", "nay"): 0,  # southern "bữa nay"
    ("hom", "qua"): -1,
    ("bua", "qua"): -1,
    ("hom", "kia"): -2,
    # Forward words are read so that they can be refused as FUTURE, not as gibberish.
    ("ngay", "mai"): 1,
    ("mai",): 1,
    ("ngay", "kia"): 2,
    ("ngay", "mot"): 2,
}
_WEEKS: dict[tuple[str, ...], int] = {
    ("tuan", "nay"): 0,
    ("tuan", "truoc"): -1,
    ("tuan", "qua"): -1,
    ("tuan", "roi"): -1,
    ("tuan", "vua", "qua"): -1,
    ("tuan", "vua", "roi"): -1,
    ("tuan", "truoc", "nua"): -2,
    ("tuan", "sau"): 1,
    ("tuan", "toi"): 1,
}
_AFTER_WEEKDAY = {**_WEEKS, ("nay",): 0}  # "thứ 2 này"
_DAY_FILLERS = frozenset({"ngay", "hom", "bua", "mung", "mong"})  # "ngày 12/11", "mùng 5"
_RANGE_WORDS = frozenset({"-", "den", "toi"})  # "12 đến 16/11", "12 tới 16/11"
_LIST_WORDS = frozenset({",", ";", "+", "&", "va", "voi"})

_DATE = re.compile(
    # "12/11", "12.11.2026": a year uses the same separator ("12.11/2026" is no date).
    r"(?P<d>\d{1,2}) *(?P<sep>[/.]) *(?P<m>\d{1,2})(?: *(?P=sep) *(?P<y>\d{4}|\d{2}))?(?!\d)"
    # "12-11", but in "12-16/11" the dash is a range: 16/11 is the date.
    r"|(?P<dd>\d{1,2})-(?P<dm>\d{1,2})(?:-(?P<dy>\d{4}|\d{2}))?(?![\d/.])"
    r"|(?P<wd>\d{1,2}) +thang +(?P<wm>\d{1,2})(?: +nam +(?P<wy>\d{4}|\d{2}))?(?!\d)"
)
_OTHER = re.compile(r"(?P<num>\d+)|(?P<word>[a-z]+)|(?P<space>\s+)|(?P<mark>.)")


@dataclass(frozen=True, slots=True)
class _Token:
    text: str  # folded
    span: Span
    parts: tuple[int, int, int | None] | None = None  # day, month, year of a date
    number: bool = False


def _fold_keeping_places(text: str) -> tuple[str, list[int]]:
    """``text`` folded, and for each folded character the index it came from.

    Each character is folded between two letters so that :func:`fold` neither drops
    it as an edge nor merges it: punctuation stays, diacritics and zero-width
    characters vanish, "Đ" becomes "d", any whitespace one space.
    """
    out: list[str] = []
    places: list[int] = []
    for i, ch in enumerate(text):
        folded = fold(f"a{ch}a")[1:-1]
        if ch in "–—−":  # en dash, em dash, minus: typed for ranges
            folded = "-"
        out.append(folded)
        places.extend([i] * len(folded))
    return "".join(out), places


def _date_parts(match: re.Match[str]) -> tuple[int, int, int | None]:
    """Day, month and (four-digit) year of a :data:`_DATE` match."""
    # Each alternative of _DATE names its own (day, month, year); one of them matched.
    for names in (("d", "m", "y"), ("dd", "dm", "dy"), ("wd", "wm", "wy")):
        day, month, year = match.group(*names)
        if day is not None:
            full_year = None if year is None else int(year) + (2000 if len(year) == 2 else 0)
            return int(day), int(month), full_year
    raise AssertionError("a _DATE match has a day")


def _tokens(text: str) -> list[_Token]:
    """The words, numbers, dates and marks of ``text``; raises NOT_A_DATE on others.

    As with :func:`fold`, anything that is not a letter or digit at either end is
    ignored ("12/11." is "12/11").
    """
    folded, places = _fold_keeping_places(text)
    alnum = [i for i, ch in enumerate(folded) if ch.isalnum()]
    if not alnum:
        return []
    pos, stop = alnum[0], alnum[-1] + 1

    def original(start: int, end: int) -> Span:
        return places[start], places[end] if end < len(places) else len(text)

    tokens: list[_Token] = []
    while pos < stop:
        found = _DATE.match(folded, pos, stop)
        if found is not None:
            tokens.append(_Token(found[0], original(*found.span()), _date_parts(found)))
            pos = found.end()
            continue
        other = _OTHER.match(folded, pos, stop)
        assert other is not None  # "." matches any character
        pos = other.end()
        if other["space"] is not None:
            continue
        span = original(*other.span())
        if other["mark"] is not None and other[0] != "-" and other[0] not in _LIST_WORDS:
            raise _Refusal(DaysProblem.NOT_A_DATE, span)
        tokens.append(_Token(other[0], span, number=other["num"] is not None))
    return tokens


def _split_parts(tokens: list[_Token]) -> list[list[_Token]]:
    """The comma- or "và"-separated parts of an entry; empty parts are dropped."""
    parts: list[list[_Token]] = [[]]
    for token in tokens:
        if token.text in _LIST_WORDS:
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def _joined(first: Span, last: Span) -> Span:
    return first[0], last[1]


# --- reading one part ----------------------------------------------------------------


def _phrase_at(words: list[str], i: int, table: dict[tuple[str, ...], int]) -> tuple[int, int]:
    """The longest phrase of ``table`` at ``words[i]``: (its value, index after), or (0, i)."""
    for phrase in sorted(table, key=len, reverse=True):
        if tuple(words[i : i + len(phrase)]) == phrase:
            return table[phrase], i + len(phrase)
    return 0, i


def _end_at(tokens: list[_Token], words: list[str], i: int) -> tuple[_End, int] | None:
    """One day starting at ``tokens[i]``, and the index after it; None if there is none."""
    offset, after = _phrase_at(words, i, _RELATIVE_DAYS)
    if after > i:
        return _Relative(offset, _joined(tokens[i].span, tokens[after - 1].span)), after
    first = i
    if words[i] in _DAY_FILLERS and i + 1 < len(tokens):
        i += 1  # "ngày 12/11"
    token = tokens[i]
    span = _joined(tokens[first].span, token.span)
    if token.parts is not None:
        return _Day(*token.parts, span), i + 1
    if token.number:
        return (_Day(int(token.text), None, None, span), i + 1) if len(token.text) <= 2 else None
    weekday = _weekday_at(words, i)  # "thứ 2", "hôm thứ 2"
    if weekday is None:
        return None
    week, after = _phrase_at(words, weekday[1], _AFTER_WEEKDAY)
    end = tokens[after - 1].span
    return _Weekday(weekday[0], week if after > weekday[1] else None, _joined(span, end)), after


def _borrow_month(day: _End, other: _End, span: Span) -> _End:
    """A bare day ("12" in "12 đến 16/11") takes the month and year of the other end."""
    if not isinstance(day, _Day) or day.month is not None:
        return day
    if isinstance(other, _Day) and other.month is not None:
        return replace(day, month=other.month, year=other.year)
    raise _Refusal(DaysProblem.NOT_A_DATE, span)  # "12 đến 16": which month?


def _share_week(start: _End, end: _End) -> _End:
    """In "thứ 2 đến thứ 4 tuần trước" the week belongs to both days."""
    if isinstance(start, _Weekday) and start.week is None and isinstance(end, _Weekday):
        return replace(start, week=end.week)
    return start


def _range(start: _End, end: _End) -> _Range:
    span = _joined(start.span, end.span)
    start, end = _borrow_month(start, end, span), _borrow_month(end, start, span)
    return _Range(_share_week(start, end), end, span)


def _read_part(tokens: list[_Token]) -> _Item:
    """One part of an entry: a day, a range of days or a week; raises NOT_A_DATE."""
    words = [token.text for token in tokens]
    span = _joined(tokens[0].span, tokens[-1].span)
    if tuple(words) in _WEEKS:
        return _Week(_WEEKS[tuple(words)], span)
    i = 1 if words[0] == "tu" and len(words) > 1 else 0  # "từ 12/11 đến 16/11"
    start = _end_at(tokens, words, i)
    if start is not None and start[1] == len(tokens):
        return start[0]
    if start is not None and words[start[1]] in _RANGE_WORDS and start[1] + 1 < len(tokens):
        end = _end_at(tokens, words, start[1] + 1)
        if end is not None and end[1] == len(tokens):
            return _range(start[0], end[0])
    raise _Refusal(DaysProblem.NOT_A_DATE, span)


def _month_of(item: _Item) -> tuple[int, int | None] | None:
    """The month (and year) a bare day before ``item`` borrows: "12, 13, 15/11"."""
    ends = (item.start, item.end) if isinstance(item, _Range) else (item,)
    for end in ends:
        if isinstance(end, _Day) and end.month is not None:
            return end.month, end.year
    return None


def _group_days(items: list[_Item]) -> list[_Item]:
    """Bare days join the next part that has a month; each typed date becomes a group."""
    grouped: list[_Item] = []
    waiting: list[_Day] = []
    for item in items:
        if isinstance(item, _Day) and item.month is None:
            waiting.append(item)
            continue
        if waiting:
            month = _month_of(item)
            if month is None:
                raise _Refusal(DaysProblem.NOT_A_DATE, waiting[0].span)
            if isinstance(item, _Day):  # the donor is a single date: one group with it
                waiting.append(item)
                item = _Group(tuple(waiting), *month, _joined(waiting[0].span, item.span))
            else:
                span = _joined(waiting[0].span, waiting[-1].span)
                grouped.append(_Group(tuple(waiting), *month, span))
            waiting = []
        if isinstance(item, _Day):
            assert item.month is not None
            item = _Group((item,), item.month, item.year, item.span)
        grouped.append(item)
    if waiting:
        raise _Refusal(DaysProblem.NOT_A_DATE, waiting[0].span)
    return grouped


# --- resolving to dates --------------------------------------------------------------

_YEARS_BACK = 8  # 29 February recurs within 8 years


def _check_possible(day: int, month: int | None, year: int | None, span: Span) -> None:
    """Refuse a day that exists in no year ("30/2") or not in the typed year."""
    if month is None or not 1 <= month <= 12:
        raise _Refusal(DaysProblem.IMPOSSIBLE, span)
    last = calendar.monthrange(2000 if year is None else year, month)[1]  # 2000 is leap
    if not 1 <= day <= last or (year is not None and year < 1):
        raise _Refusal(DaysProblem.IMPOSSIBLE, span)


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _fixed(end: _End, today: date) -> date | None:
    """The date of a day that does not depend on its neighbour; None if it does."""
    if isinstance(end, _Relative):
        return today + timedelta(days=end.offset)
    if isinstance(end, _Weekday):
        if end.week is None:
            return None
        return _monday(today) + timedelta(days=7 * end.week + end.weekday)
    _check_possible(end.day, end.month, end.year, end.span)
    if end.year is None or end.month is None:
        return None
    return date(end.year, end.month, end.day)


def _nearest(end: _Day | _Weekday, anchor: date, step: int) -> date:
    """The free day closest to ``anchor``: on or before it (step -1) or after (step 1)."""
    if isinstance(end, _Weekday):
        return anchor + timedelta(days=step * ((step * (end.weekday - anchor.weekday())) % 7))
    assert end.month is not None
    for years in range(_YEARS_BACK + 1):
        found = _make(anchor.year + step * years, end.month, end.day)
        if found is not None and (found - anchor).days * step >= 0:
            return found
    raise _Refusal(DaysProblem.IMPOSSIBLE, end.span)


def _free(end: _End) -> _Day | _Weekday:
    assert isinstance(end, _Day | _Weekday)
    return end


def _typed_backwards(item: _Range) -> bool:
    """Whether the ends, as typed, run backwards ("16/11-12/11", "thứ 4 đến thứ 2")."""
    start, end = item.start, item.end
    if isinstance(start, _Day) and isinstance(end, _Day):
        return (start.month, start.day) > (end.month, end.day)
    if isinstance(start, _Weekday) and isinstance(end, _Weekday):
        return start.weekday > end.weekday
    return False


def _unwrapped(item: _Range, first: date, last: date, today: date) -> tuple[date, date]:
    """The ends of a wrapped range read as typed: 16/11 and the 12/11 before it."""
    if _fixed(item.end, today) is None:
        return first, _nearest(_free(item.end), first, -1)
    return _nearest(_free(item.start), last, 1), last


def _resolve_range(item: _Range, today: date, max_span_days: int) -> list[date]:
    """The days of a range; a free start is the latest on or before the end (or today)."""
    first, last = _fixed(item.start, today), _fixed(item.end, today)
    if first is None:
        first = _nearest(_free(item.start), today if last is None else last, -1)
    if last is None:
        last = _nearest(_free(item.end), first, 1)
    if last < first:
        raise _Refusal(DaysProblem.RANGE_BACKWARDS, item.span, (first, last))
    length = (last - first).days + 1
    if length > max_span_days:
        # "16/11-12/11" reads forwards only by wrapping over a year: when reading it
        # backwards as typed is the nearer reading, it was typed backwards.
        unwrapped = _unwrapped(item, first, last, today) if _typed_backwards(item) else None
        if unwrapped is not None and (unwrapped[0] - unwrapped[1]).days < length:
            raise _Refusal(DaysProblem.RANGE_BACKWARDS, item.span, unwrapped)
        raise _Refusal(DaysProblem.TOO_LONG, item.span, (first, last))
    return [first + timedelta(days=n) for n in range(length)]


def _resolve_group(group: _Group, today: date) -> list[date]:
    """Days of one month; without a year, the latest year whose first such day has come."""
    for day in group.days:
        _check_possible(day.day, group.month, group.year, day.span)
    years = (
        [group.year]
        if group.year is not None
        else range(today.year, today.year - _YEARS_BACK - 1, -1)
    )
    for year in years:
        dates = [_make(year, group.month, day.day) for day in group.days]
        if all(dates) and (group.year is not None or min(filter(None, dates)) <= today):
            return list(filter(None, dates))
    raise _Refusal(DaysProblem.IMPOSSIBLE, group.span)  # "29/2/2027"


def _week_days(offset: int, today: date) -> list[date]:
    """Monday to Sunday of a week; this week only up to today."""
    monday = _monday(today) + timedelta(days=7 * offset)
    days = [monday + timedelta(days=n) for n in range(7)]
    return [day for day in days if day <= today] if offset == 0 else days


def _resolve(item: _Item, today: date, max_span_days: int) -> list[date]:
    if isinstance(item, _Group):
        return _resolve_group(item, today)
    if isinstance(item, _Range):
        return _resolve_range(item, today, max_span_days)
    if isinstance(item, _Week):
        return _week_days(item.offset, today)
    fixed = _fixed(item, today)
    return [fixed if fixed is not None else _nearest(_free(item), today, -1)]


def _read(text: str, today: date, max_span_days: int) -> tuple[date, ...]:
    parts = _split_parts(_tokens(text))
    if not parts:
        raise _Refusal(DaysProblem.NOT_A_DATE, (0, len(text)))
    items = _group_days([_read_part(part) for part in parts])
    resolved = [(item, _resolve(item, today, max_span_days)) for item in items]
    future = sorted({day for _, days in resolved for day in days if day > today})
    if future:
        span = next(item.span for item, days in resolved if max(days) > today)
        raise _Refusal(DaysProblem.FUTURE, span, tuple(future))
    return tuple(sorted({day for _, days in resolved for day in days}))


def parse_visit_days(text: str, today: date, *, max_span_days: int = MAX_SPAN_DAYS) -> DaysParse:
    """Read the field days a cadre typed, looking back from ``today``.

    Returns the sorted distinct dates, or a refusal of the whole entry: NOT_A_DATE,
    IMPOSSIBLE ("30/2"), FUTURE (any day after today), RANGE_BACKWARDS ("16/11-12/11")
    or TOO_LONG (a range of more than ``max_span_days`` days, both ends included).
    """
    try:
        return DaysParse(days=_read(text, today, max_span_days))
    except OverflowError:  # only past year 9999 or before year 1
        return DaysParse(problem=DaysProblem.IMPOSSIBLE, text=text.strip())
    except _Refusal as refusal:
        start, end = refusal.span
        return DaysParse(
            problem=refusal.problem, text=text[start:end].strip(), bad_days=refusal.bad_days
        )
