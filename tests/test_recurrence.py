"""Meeting recurrence: typed rules, times and dates, and a series' occurrences."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.recurrence import (
    is_valid_rule,
    occurrence_in_month,
    occurrences,
    parse_date,
    parse_hhmm,
    parse_rule,
    parse_time,
    to_utc,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def day(n: int) -> dict[str, Any]:
    return {"kind": "day", "day": n}


def weekday(wd: int, week: int) -> dict[str, Any]:
    return {"kind": "weekday", "weekday": wd, "week": week}


# --- parse_rule -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["ngày 25 hằng tháng", "25 hang thang", "ngay 25", "25", "Ngày 25 hàng tháng", " 25. "],
)
def test_day_rules(text: str) -> None:
    assert parse_rule(text) == day(25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thứ Bảy tuần cuối", weekday(5, -1)),
        ("thu 7 tuan cuoi", weekday(5, -1)),
        ("thứ bảy cuối tháng", weekday(5, -1)),
        ("THỨ 7 TUẦN CUỐI CÙNG CỦA THÁNG", weekday(5, -1)),
        ("vào thứ bảy cuối cùng hằng tháng", weekday(5, -1)),
        ("T7 tuần cuối", weekday(5, -1)),
        ("chủ nhật tuần đầu", weekday(6, 1)),
        ("CN tuan 1", weekday(6, 1)),
        ("chủ nhật đầu tháng", weekday(6, 1)),
        ("thứ 2 tuần thứ hai", weekday(0, 2)),
        ("thứ hai tuần 2", weekday(0, 2)),
        ("thứ ba tuần thứ 3", weekday(1, 3)),
        ("thứ tư tuần thứ tư", weekday(2, 4)),
        ("thứ năm tuần thứ nhất", weekday(3, 1)),
        ("thứ 6 tuần cuối", weekday(4, -1)),
        ("tuần cuối thứ sáu", weekday(4, -1)),
    ],
)
def test_weekday_rules(text: str, expected: dict[str, Any]) -> None:
    assert parse_rule(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "32",
        "ngày 0",
        "0",
        "100",
        "thứ 8",
        "thứ 8 tuần cuối",
        "thứ 7",  # which week?
        "thứ 7 tuần 5",
        "tuần cuối",
        "25 tháng 12",
        "ngày 25 lúc 19h",
        "hôm nay",
        "xin chào",
    ],
)
def test_not_rules(text: str) -> None:
    assert parse_rule(text) is None


def test_every_parsed_rule_is_valid() -> None:
    for n in range(1, 32):
        rule = parse_rule(f"ngày {n}")
        assert rule is not None and is_valid_rule(rule)
    assert not is_valid_rule({"kind": "day", "day": 0})
    assert not is_valid_rule({"kind": "weekday", "weekday": 7, "week": 1})
    assert not is_valid_rule({"kind": "weekday", "weekday": 1, "week": 5})
    assert not is_valid_rule({"kind": "weekday", "weekday": True, "week": 1})
    assert not is_valid_rule({"kind": "yearly"})


# --- parse_time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19:30", "19:30"),
        ("19h30", "19:30"),
        ("19H30", "19:30"),
        ("19h", "19:00"),
        ("7 giờ tối", "19:00"),
        ("7h sáng", "07:00"),
        ("19 gio 30", "19:30"),
        ("19 giờ 30 phút", "19:30"),
        ("lúc 19h30", "19:30"),
        ("7 giờ rưỡi tối", "19:30"),
        ("7 tối", "19:00"),
        ("2 giờ chiều", "14:00"),
        ("12 giờ trưa", "12:00"),
        ("7:30 pm", "19:30"),
        ("19.30", "19:30"),
        ("7:05", "07:05"),
        ("0:00", "00:00"),
        ("23:59", "23:59"),
    ],
)
def test_parse_time(text: str, expected: str) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text", ["19", "24:00", "19:60", "25h", "19h sáng", "3 giờ tối", "abc", "", "19:3"]
)
def test_not_times(text: str) -> None:
    assert parse_time(text) is None


@given(st.integers(0, 23), st.integers(0, 59))
def test_parse_time_of_its_output(hour: int, minute: int) -> None:
    text = f"{hour:02d}:{minute:02d}"
    assert parse_time(text) == text
    assert parse_time(f"{hour}h{minute:02d}") == text
    assert parse_hhmm(text).hour == hour


# --- parse_date -------------------------------------------------------------------

TODAY = date(2026, 11, 22)  # a Sunday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25/12", date(2026, 12, 25)),
        ("25/12/2026", date(2026, 12, 25)),
        ("25-12-2026", date(2026, 12, 25)),
        ("25.12.2026", date(2026, 12, 25)),
        ("25/12/26", date(2026, 12, 25)),
        ("ngày 25/12", date(2026, 12, 25)),
        ("25 tháng 12 năm 2026", date(2026, 12, 25)),
        ("2026-12-25", date(2026, 12, 25)),
        ("hôm nay", TODAY),
        ("Hôm nay", TODAY),
        ("ngày mai", date(2026, 11, 23)),
        ("mai", date(2026, 11, 23)),
        ("ngày mốt", date(2026, 11, 24)),
        ("22/11", TODAY),  # today is not "passed"
        ("21/11", date(2027, 11, 21)),  # passed: next year
        ("1/1", date(2027, 1, 1)),
        ("29/2/2028", date(2028, 2, 29)),
        ("thứ 7 tuần này", date(2026, 11, 21)),  # this Mon–Sun week, even if passed
        ("chủ nhật tuần này", TODAY),
        ("thu 7 tuan sau", date(2026, 11, 28)),
        ("thứ hai tuần tới", date(2026, 11, 23)),
        ("thứ 2", date(2026, 11, 23)),
        ("chủ nhật", TODAY),
        ("thứ 7 tuần sau nữa", date(2026, 12, 5)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    ["32/13", "30/2", "31/4", "29/2/2027", "0/5", "25/0", "thứ 8", "tuần sau", "", "abc", "25"],
)
def test_not_dates(text: str) -> None:
    assert parse_date(text, TODAY) is None


def test_parse_date_midweek() -> None:
    wednesday = date(2026, 11, 25)
    assert parse_date("thứ 7 tuần này", wednesday) == date(2026, 11, 28)
    assert parse_date("thứ 7 tuần sau", wednesday) == date(2026, 12, 5)
    assert parse_date("thứ 2 tuần này", wednesday) == date(2026, 11, 23)
    assert parse_date("thứ 2", wednesday) == date(2026, 11, 30)
    assert parse_date("29/2", date(2027, 3, 1)) == date(2028, 2, 29)
    assert parse_date("29/2", date(2026, 1, 1)) is None  # not a leap year


@given(
    st.dates(date(2000, 1, 1), date(2098, 12, 31)), st.dates(date(2000, 1, 1), date(2098, 12, 31))
)
def test_parse_date_without_year_is_never_in_the_past(target: date, today: date) -> None:
    found = parse_date(f"{target.day}/{target.month}", today)
    if found is not None:
        assert 0 <= (found - today).days <= 366
        assert (found.day, found.month) == (target.day, target.month)
    assert parse_date(f"{target.day:02d}/{target.month:02d}/{target.year}", today) == target


# --- occurrence_in_month ----------------------------------------------------------


def test_day_past_the_months_end_falls_on_its_last_day() -> None:
    assert occurrence_in_month(day(31), 2026, 2) == date(2026, 2, 28)
    assert occurrence_in_month(day(31), 2028, 2) == date(2028, 2, 29)
    assert occurrence_in_month(day(31), 2026, 4) == date(2026, 4, 30)
    assert occurrence_in_month(day(25), 2026, 2) == date(2026, 2, 25)


def test_weekday_occurrences() -> None:
    # November 2026 starts on a Sunday and ends on a Monday.
    assert occurrence_in_month(weekday(5, -1), 2026, 11) == date(2026, 11, 28)
    assert occurrence_in_month(weekday(6, 1), 2026, 11) == date(2026, 11, 1)
    assert occurrence_in_month(weekday(0, 2), 2026, 11) == date(2026, 11, 9)
    assert occurrence_in_month(weekday(0, -1), 2026, 11) == date(2026, 11, 30)
    assert occurrence_in_month(weekday(6, 4), 2026, 11) == date(2026, 11, 22)


def test_malformed_rules_have_no_occurrence() -> None:
    assert occurrence_in_month({"kind": "day", "day": 40}, 2026, 1) is None
    assert occurrence_in_month({"kind": "nope"}, 2026, 1) is None
    assert occurrence_in_month(day(1), 2026, 13) is None


# --- occurrences ------------------------------------------------------------------


def test_monthly_occurrences_in_utc() -> None:
    found = occurrences(
        weekday(5, -1),
        1,
        "19:30",
        (2026, 11),
        VN,
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2027, 2, 1, tzinfo=UTC),
    )
    assert found == [
        ("2026-11", datetime(2026, 11, 28, 12, 30, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 26, 12, 30, tzinfo=UTC)),
        ("2027-01", datetime(2027, 1, 30, 12, 30, tzinfo=UTC)),
    ]


def test_quarterly_counts_from_the_start_month() -> None:
    found = occurrences(
        day(25),
        3,
        "08:00",
        (2026, 2),
        VN,
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert [key for key, _ in found] == ["2026-02", "2026-05", "2026-08", "2026-11"]
    assert found[0][1] == datetime(2026, 2, 25, 1, 0, tzinfo=UTC)


def test_bounds_are_after_inclusive_until_exclusive() -> None:
    start = datetime(2026, 12, 25, 12, 30, tzinfo=UTC)  # 19:30 in Vietnam
    args = (day(25), 1, "19:30", (2026, 1), VN)
    assert occurrences(*args, start, start + timedelta(seconds=1)) == [("2026-12", start)]
    assert occurrences(*args, start - timedelta(days=1), start) == []
    assert occurrences(*args, start, start) == []


def test_occurrence_late_in_the_evening_is_keyed_by_its_local_month() -> None:
    # 06:30 on the 1st in Vietnam is 23:30 on the last day of the previous month in UTC.
    found = occurrences(
        day(1),
        1,
        "06:30",
        (2026, 1),
        VN,
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 31, tzinfo=UTC),
    )
    assert found == [
        ("2026-02", datetime(2026, 1, 31, 23, 30, tzinfo=UTC)),
        ("2026-03", datetime(2026, 2, 28, 23, 30, tzinfo=UTC)),
    ]


def test_occurrences_refuse_bad_input() -> None:
    after, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        occurrences({"kind": "x"}, 1, "19:30", (2026, 1), VN, after, until)
    with pytest.raises(ValueError):
        occurrences(day(1), 0, "19:30", (2026, 1), VN, after, until)
    with pytest.raises(ValueError):
        occurrences(day(1), 1, "25:00", (2026, 1), VN, after, until)
    with pytest.raises(ValueError):
        occurrences(day(1), 1, "19:30", (2026, 1), VN, after.replace(tzinfo=None), until)


def test_to_utc() -> None:
    assert to_utc(date(2026, 12, 25), "19:30", VN) == datetime(2026, 12, 25, 12, 30, tzinfo=UTC)


# --- properties -------------------------------------------------------------------

rules = st.one_of(
    st.builds(day, st.integers(1, 31)),
    st.builds(weekday, st.integers(0, 6), st.sampled_from([1, 2, 3, 4, -1])),
)
months = st.tuples(st.integers(1990, 2090), st.integers(1, 12))
zones = st.sampled_from(
    [VN, ZoneInfo("UTC"), ZoneInfo("Asia/Bangkok"), ZoneInfo("Pacific/Kiritimati")]
)
local_times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))


@given(rules, months)
def test_occurrence_lies_in_its_month(rule: dict[str, Any], month: tuple[int, int]) -> None:
    year, mon = month
    found = occurrence_in_month(rule, year, mon)
    assert found is not None
    assert (found.year, found.month) == (year, mon)
    last_day = calendar.monthrange(year, mon)[1]
    if rule["kind"] == "weekday":
        assert found.weekday() == rule["weekday"]
        if rule["week"] == -1:
            assert last_day - 7 < found.day <= last_day
        else:
            assert (found.day - 1) // 7 + 1 == rule["week"]
    else:
        assert found.day == min(rule["day"], last_day)


@settings(max_examples=150)
@given(
    rules,
    st.sampled_from([1, 3]),
    local_times,
    months,
    zones,
    st.datetimes(datetime(1990, 1, 1), datetime(2090, 1, 1), timezones=st.just(UTC)),
    st.integers(0, 800),
)
def test_occurrences_properties(
    rule: dict[str, Any],
    every_months: int,
    local_time: str,
    start_month: tuple[int, int],
    tz: ZoneInfo,
    after: datetime,
    span_days: int,
) -> None:
    until = after + timedelta(days=span_days)
    found = occurrences(rule, every_months, local_time, start_month, tz, after, until)
    starts = [start for _, start in found]
    assert starts == sorted(set(starts))  # strictly increasing
    start_index = start_month[0] * 12 + start_month[1] - 1
    for key, start in found:
        assert after <= start < until
        assert start.utcoffset() == timedelta(0)
        local = start.astimezone(tz)
        assert key == f"{local.year:04d}-{local.month:02d}"  # in its month
        assert local.strftime("%H:%M") == local_time
        assert local.date() == occurrence_in_month(rule, local.year, local.month)
        # local → UTC → local round-trips
        assert to_utc(local.date(), local_time, tz) == start
        index = local.year * 12 + local.month - 1
        assert index >= start_index and (index - start_index) % every_months == 0

    # Nothing is missed: a month-by-month scan finds the same occurrences.
    expected = []
    index = start_index
    while index <= (until.year + 1) * 12:
        year, mon = divmod(index, 12)
        when = occurrence_in_month(rule, year, mon + 1)
        assert when is not None
        at = to_utc(when, local_time, tz)
        if after <= at < until:
            expected.append((f"{year:04d}-{mon + 1:02d}", at))
        index += every_months
    assert found == expected
