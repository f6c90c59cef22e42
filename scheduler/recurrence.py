"""Meeting recurrence: read what a secretary types, and list a series' occurrences.

Everything here is pure. A series' rule is stored as JSON (``MeetingSeries.rule``):

* ``{"kind": "day", "day": 25}`` — the 25th of the month; a day past the month's end
  falls on its last day (31 in February is the 28th or 29th);
* ``{"kind": "weekday", "weekday": 5, "week": -1}`` — the last Saturday. ``weekday`` is
  Monday=0 … Sunday=6 (as :meth:`datetime.date.weekday`); ``week`` is 1–4 (the first to
  fourth such weekday of the month) or -1 (the last).

Typed text is compared after :func:`bot.matching.fold` (lower case, no diacritics), so
"Thứ Bảy tuần cuối" and "thu bay tuan cuoi" read the same. Vietnamese weekday names
count from Sunday: "thứ 2" (thứ hai) is Monday … "thứ 7" (thứ bảy) is Saturday, and
"chủ nhật" / "CN" is Sunday.

Times are aware datetimes: UTC in, UTC out, with the local zone passed as a ZoneInfo.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from bot.matching import fold

__all__ = [
    "is_valid_rule",
    "occurrence_in_month",
    "occurrences",
    "parse_date",
    "parse_hhmm",
    "parse_rule",
    "parse_time",
    "to_utc",
]

Rule = Mapping[str, Any]

DAY = "day"
WEEKDAY = "weekday"
LAST_WEEK = -1
_WEEKS = frozenset({1, 2, 3, 4, LAST_WEEK})

# --- words ------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z]+|\d+")
# "thứ 2" … "thứ 7" (also "t2", "thu7"): Monday … Saturday.
_WEEKDAY_DIGITS = {"2": 0, "3": 1, "4": 2, "5": 3, "6": 4, "7": 5}
# "thứ hai" … "thứ bảy"; "tư" folds to "tu", "năm" to "nam", "bảy" to "bay".
_WEEKDAY_WORDS = {"hai": 0, "ba": 1, "tu": 2, "nam": 3, "sau": 4, "bay": 5}
# "tuần 1", "tuần thứ nhất", "tuần thứ hai", "tuần thứ tư".
_ORDINALS = {
    "1": 1,
    "2": 2,
    "3": 3,
    "4": 4,
    "nhat": 1,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "tu": 4,
    "bon": 4,
}
# Words that only say "of the month", allowed after a rule: "hằng tháng", "của tháng".
_MONTH_WORDS = frozenset({"hang", "moi", "cac", "thang", "cua", "trong"})
_DAY_WORDS = frozenset({"ngay", "mung", "mong"})  # "ngày 25", "mùng 5"


def _tokens(text: str) -> list[str]:
    """Folded words and digit runs: "Thứ 7, tuần cuối" → ["thu", "7", "tuan", "cuoi"]."""
    return _TOKEN.findall(fold(text))


def _weekday_at(tokens: list[str], i: int) -> tuple[int, int] | None:
    """A weekday name starting at ``tokens[i]``: (weekday, index after it), or None."""
    if i >= len(tokens):
        return None
    word = tokens[i]
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if word == "cn":
        return 6, i + 1
    if word == "chu" and after == "nhat":
        return 6, i + 2
    if word in ("thu", "t") and after in _WEEKDAY_DIGITS:
        return _WEEKDAY_DIGITS[after], i + 2
    if word == "thu" and after in _WEEKDAY_WORDS:
        return _WEEKDAY_WORDS[after], i + 2
    return None


def _week_at(tokens: list[str], i: int) -> tuple[int, int] | None:
    """Which week of the month, starting at ``tokens[i]``: (week, index after it), or None.

    "tuần cuối", "tuần cuối cùng", "cuối tháng" → -1; "tuần đầu", "đầu tháng" → 1;
    "tuần 2", "tuần thứ hai", "tuần thứ 2" → 2.
    """
    n = len(tokens)
    j = i
    named_week = j < n and tokens[j] == "tuan"
    if named_week:
        j += 1
    if j < n and tokens[j] == "cuoi":
        j += 1
        if j < n and tokens[j] == "cung":
            j += 1
        return LAST_WEEK, j
    if j < n and tokens[j] == "dau":
        j += 1
        if j < n and tokens[j] == "tien":
            j += 1
        return 1, j
    if named_week:
        if j < n and tokens[j] == "thu":
            j += 1
        if j < n and tokens[j] in _ORDINALS:
            return _ORDINALS[tokens[j]], j + 1
    return None


def _only_month_words(tokens: list[str]) -> bool:
    return all(token in _MONTH_WORDS for token in tokens)


# --- rules ------------------------------------------------------------------------


def is_valid_rule(rule: Rule) -> bool:
    """Whether ``rule`` is a well-formed day or weekday rule."""
    kind = rule.get("kind")
    if kind == DAY:
        day = rule.get("day")
        return type(day) is int and 1 <= day <= 31
    if kind == WEEKDAY:
        weekday, week = rule.get("weekday"), rule.get("week")
        return type(weekday) is int and 0 <= weekday <= 6 and type(week) is int and week in _WEEKS
    return False


def parse_rule(text: str) -> dict[str, Any] | None:
    """Read a monthly rule as a secretary types it, or None.

    Day rules: "ngày 25 hằng tháng", "25 hang thang", "ngay 25", "mùng 5", "25" →
    ``{"kind": "day", "day": 25}`` (1–31). Weekday rules: "thứ Bảy tuần cuối",
    "thu 7 tuan cuoi", "thứ bảy cuối tháng" → ``{"kind": "weekday", "weekday": 5,
    "week": -1}``; "chủ nhật tuần đầu", "CN tuan 1", "thứ 2 tuần thứ hai" give weeks
    1–4. A leading "vào" and trailing "of the month" words ("hằng tháng", "của tháng")
    are allowed; anything else ("32", "ngày 0", "thứ 8", "tuần 5") gives None.
    """
    tokens = _tokens(text)
    if tokens and tokens[0] == "vao":
        tokens = tokens[1:]
    if not tokens:
        return None

    # A day of the month.
    i = 1 if tokens[0] in _DAY_WORDS else 0
    if i < len(tokens) and tokens[i].isdecimal() and _only_month_words(tokens[i + 1 :]):
        if len(tokens[i]) > 2:
            return None
        day = int(tokens[i])
        return {"kind": DAY, "day": day} if 1 <= day <= 31 else None

    # A weekday and a week, in either order.
    weekday = _weekday_at(tokens, 0)
    if weekday is not None:
        week = _week_at(tokens, weekday[1])
        if week is not None and _only_month_words(tokens[week[1] :]):
            return {"kind": WEEKDAY, "weekday": weekday[0], "week": week[0]}
        return None
    week = _week_at(tokens, 0)
    if week is not None:
        weekday = _weekday_at(tokens, week[1])
        if weekday is not None and _only_month_words(tokens[weekday[1] :]):
            return {"kind": WEEKDAY, "weekday": weekday[0], "week": week[0]}
    return None


def occurrence_in_month(rule: Rule, year: int, month: int) -> date | None:
    """The local date on which ``rule`` falls in a month, or None for a malformed rule.

    A day past the month's end falls on its last day; week 1–4 is the first to fourth
    such weekday, -1 the last one (always within the month's last 7 days).
    """
    if not is_valid_rule(rule) or not 1 <= month <= 12:
        return None
    last_day = calendar.monthrange(year, month)[1]
    if rule["kind"] == DAY:
        return date(year, month, min(int(rule["day"]), last_day))
    weekday, week = int(rule["weekday"]), int(rule["week"])
    if week == LAST_WEEK:
        last = date(year, month, last_day)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))


# --- times ------------------------------------------------------------------------


def parse_hhmm(value: str) -> time:
    """A stored "HH:MM" as a time; raises ValueError for anything else."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if match is None:
        raise ValueError(f"not an HH:MM time: {value!r}")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"not an HH:MM time: {value!r}")
    return time(hour, minute)


def to_utc(day: date, local_time: str | time, tz: tzinfo) -> datetime:
    """The UTC instant of a local date and wall-clock time in ``tz``.

    A wall-clock time skipped by a daylight-saving change reads with the offset from
    before the change (it lands after the gap); a repeated one is its first instance.
    Asia/Ho_Chi_Minh has had no such changes since 1975.
    """
    at = parse_hhmm(local_time) if isinstance(local_time, str) else local_time
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def occurrences(
    rule: Rule,
    every_months: int,
    local_time: str,
    start_month: tuple[int, int],
    tz: tzinfo,
    after: datetime,
    until: datetime,
) -> list[tuple[str, datetime]]:
    """A series' occurrences that start in ``[after, until)``, oldest first.

    Each is (occurrence key "YYYY-MM", start in UTC). The series starts in
    ``start_month`` (year, month) and repeats every ``every_months`` months counted
    from it (1 = monthly, 3 = quarterly); months before ``start_month`` have none.
    Raises ValueError for a malformed rule, time, month or ``every_months`` < 1.
    """
    if not is_valid_rule(rule):
        raise ValueError(f"malformed meeting rule: {dict(rule)!r}")
    if every_months < 1:
        raise ValueError("every_months must be at least 1")
    start_year, start_mon = start_month
    if not 1 <= start_mon <= 12:
        raise ValueError(f"no such month: {start_mon}")
    at = parse_hhmm(local_time)
    _require_aware(after, "after")
    _require_aware(until, "until")
    if until <= after:
        return []

    # An occurrence in month M starts in local month M, so only months between the
    # local months of ``after`` and ``until`` can hold one.
    start_index = start_year * 12 + start_mon - 1
    after_local, until_local = after.astimezone(tz), until.astimezone(tz)
    first_index = after_local.year * 12 + after_local.month - 1
    last_index = until_local.year * 12 + until_local.month - 1
    if first_index <= start_index:
        index = start_index
    else:
        steps = -(-(first_index - start_index) // every_months)  # ceiling
        index = start_index + steps * every_months

    found: list[tuple[str, datetime]] = []
    while index <= last_index:
        year, month = divmod(index, 12)
        month += 1
        day = occurrence_in_month(rule, year, month)
        assert day is not None  # the rule was checked above
        starts = to_utc(day, at, tz)
        if after <= starts < until:
            found.append((f"{year:04d}-{month:02d}", starts))
        index += every_months
    return found


# Parts of the day after the hour: "7 giờ tối", "7h sáng".
_TIME = re.compile(
    r"(?:(?:vao )?luc )?(?P<hour>\d{1,2})"
    r"(?: ?[:.] ?(?P<colon_minute>\d{2})"
    r"| ?(?P<unit>h|g|gio)(?: ?(?P<minute>\d{1,2}|ruoi)(?: ?(?:phut|ph|p))?)?)?"
    r"(?: ?(?P<period>sang|trua|chieu|toi|dem|am|pm))?"
)


def _apply_period(hour: int, period: str) -> int | None:
    """A 24-hour hour from an hour and a part of the day, or None if they disagree."""
    if period in ("sang", "am"):
        return 0 if hour == 12 else hour if hour <= 11 else None
    if period == "trua":  # midday: 11–12, 1–2 in the afternoon
        if hour in (11, 12, 13, 14):
            return hour
        return hour + 12 if hour in (1, 2) else None
    if period in ("chieu", "pm"):  # afternoon
        if 1 <= hour <= 11:
            return hour + 12
        return hour if 12 <= hour <= 23 else None
    if period == "toi":  # evening
        if 5 <= hour <= 11:
            return hour + 12
        return hour if 17 <= hour <= 23 else None
    if period == "dem":  # night: 9–11 in the evening, 12 midnight, 0–4 after
        if 9 <= hour <= 11:
            return hour + 12
        if hour == 12:
            return 0
        return hour if 0 <= hour <= 4 or 21 <= hour <= 23 else None
    return None


def parse_time(text: str) -> str | None:
    """Read a time of day as a secretary types it: "HH:MM", or None.

    "19:30", "19.30", "19h30", "19h", "19 gio 30", "19 giờ 30 phút", "7 giờ tối",
    "7h sáng", "7 giờ rưỡi tối" (half past), "7:30 pm". A bare number ("19") is not a
    time, but "7 tối" is; a part of the day that contradicts the hour ("19h sáng")
    gives None.
    """
    match = _TIME.fullmatch(fold(text))
    if match is None:
        return None
    hour = int(match["hour"])
    raw_minute = match["colon_minute"] or match["minute"]
    minute = 30 if raw_minute == "ruoi" else int(raw_minute or 0)
    period = match["period"]
    if period is not None:
        converted = _apply_period(hour, period)
        if converted is None:
            return None
        hour = converted
    elif match["colon_minute"] is None and match["unit"] is None:
        return None
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


# --- dates ------------------------------------------------------------------------

_NUMERIC_DATE = re.compile(
    r"(?:(?:ngay|hom) )?(?P<day>\d{1,2}) ?(?P<sep>[/.-]) ?(?P<month>\d{1,2})"
    r"(?: ?(?P=sep) ?(?P<year>\d{4}|\d{2}))?"
)
_WORDED_DATE = re.compile(
    r"(?:ngay |mung |mong )?(?P<day>\d{1,2}) thang (?P<month>\d{1,2})"
    r"(?: nam (?P<year>\d{4}|\d{2}))?"
)
_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
_RELATIVE_DAYS = {
    "hom nay": 0,
    "nay": 0,
    "ngay mai": 1,
    "mai": 1,
    "ngay kia": 2,
    "ngay mot": 2,
    "mot": 2,
}
# After a weekday: which week ("tuần này" = this Monday–Sunday week).
_WEEK_OFFSETS = {
    ("tuan", "nay"): 0,
    ("tuan", "sau"): 1,
    ("tuan", "toi"): 1,
    ("tuan", "ke"): 1,
    ("tuan", "ke", "tiep"): 1,
    ("tuan", "tiep", "theo"): 1,
    ("tuan", "sau", "nua"): 2,
}


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_year(text: str) -> int:
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def parse_date(text: str, today: date) -> date | None:
    """Read a date for a one-off meeting or a moved occurrence, or None.

    "25/12", "25-12", "25.12", "ngày 25/12", "25 tháng 12", with a year ("25/12/2026",
    "25-12-26", "25 tháng 12 năm 2026") or as ISO "2026-12-25"; "hôm nay", "ngày
    mai"/"mai", "ngày kia"/"ngày mốt"; a weekday ("thứ 7", "thứ bảy này": the next one
    on or after ``today``) optionally with "tuần này" (this Monday–Sunday week, even if
    that day has passed), "tuần sau"/"tuần tới" (next week) or "tuần sau nữa".

    A two-digit year is in the 2000s. A day and month without a year that has already
    passed this year means next year. Impossible dates ("32/13", "30/2") give None.
    Dates in the past with an explicit year are returned as typed: refusing them is
    the caller's decision.
    """
    folded = fold(text)
    if not folded:
        return None

    if folded in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[folded])

    iso = _ISO_DATE.fullmatch(folded)
    if iso is not None:
        return _make_date(int(iso["year"]), int(iso["month"]), int(iso["day"]))

    match = _NUMERIC_DATE.fullmatch(folded) or _WORDED_DATE.fullmatch(folded)
    if match is not None:
        day, month = int(match["day"]), int(match["month"])
        if match["year"] is not None:
            return _make_date(_full_year(match["year"]), month, day)
        passed = (month, day) < (today.month, today.day)
        return _make_date(today.year + 1 if passed else today.year, month, day)

    tokens = _TOKEN.findall(folded)
    if tokens and tokens[0] == "vao":
        tokens = tokens[1:]
    found = _weekday_at(tokens, 0)
    if found is None:
        return None
    weekday, rest = found[0], tuple(tokens[found[1] :])
    if rest in ((), ("nay",), ("toi",), ("sap", "toi")):
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    offset = _WEEK_OFFSETS.get(rest)
    if offset is None:
        return None
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=7 * offset + weekday)
