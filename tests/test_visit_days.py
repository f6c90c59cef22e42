"""Reading field-visit days as a cadre types them: always looking back from today."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.visit_days import DaysParse, DaysProblem, parse_visit_days

TODAY = date(2026, 11, 18)  # a Wednesday


def plain(text: str) -> str:
    """``text`` as typed without Vietnamese input: "Thứ 2 tuần trước" → "Thu 2 tuan truoc"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def nov(*days: int) -> tuple[date, ...]:
    return tuple(date(2026, 11, day) for day in days)


def days_between(first: date, last: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


ACCEPTED: list[tuple[str, tuple[date, ...]]] = [
    # relative days
    ("hôm nay", nov(18)),
    ("hôm qua", nov(17)),
    ("hôm kia", nov(16)),
    ("bữa qua", nov(17)),
    # one date; without a year, the latest on or before today
    ("12/11", nov(12)),
    ("12/11/2026", nov(12)),
    ("12/11/26", nov(12)),
    ("12-11", nov(12)),
    ("12.11", nov(12)),
    ("ngày 12/11", nov(12)),
    ("12 tháng 11", nov(12)),
    ("12/11.", nov(12)),
    ("18/11", nov(18)),  # today is not "after today"
    ("20/11", (date(2025, 11, 20),)),  # not yet this year: last year's
    ("29/2", (date(2024, 2, 29),)),  # the latest 29 February
    # ranges
    ("12/11-16/11", nov(12, 13, 14, 15, 16)),
    ("12/11 - 16/11/2026", nov(12, 13, 14, 15, 16)),
    ("12 – 16/11", nov(12, 13, 14, 15, 16)),
    ("12-16/11", nov(12, 13, 14, 15, 16)),
    ("12 đến 16/11", nov(12, 13, 14, 15, 16)),
    ("12 tới 16/11", nov(12, 13, 14, 15, 16)),
    ("từ 12/11 đến 16/11", nov(12, 13, 14, 15, 16)),
    ("từ ngày 12 đến ngày 16/11", nov(12, 13, 14, 15, 16)),
    ("12/11-16", nov(12, 13, 14, 15, 16)),
    ("hôm kia đến hôm nay", nov(16, 17, 18)),
    ("28/12-03/01", days_between(date(2025, 12, 28), date(2026, 1, 3))),
    ("28/12/2025 - 3/1", days_between(date(2025, 12, 28), date(2026, 1, 3))),
    ("1/1/2026-31/1/2026", days_between(date(2026, 1, 1), date(2026, 1, 31))),  # 31 days
    # lists
    ("12,13,15/11", nov(12, 13, 15)),
    ("12, 13 và 15/11", nov(12, 13, 15)),
    ("12/11, 14/11", nov(12, 14)),
    ("12/11; 14/11", nov(12, 14)),
    ("12/11 và hôm nay", nov(12, 18)),
    ("hôm qua, hôm nay", nov(17, 18)),
    ("12/11, 12/11, 11-13/11", nov(11, 12, 13)),  # sorted, each day once
    ("12, 13 - 15/11", nov(12, 13, 14, 15)),
    # weekdays; without a week, the latest on or before today
    ("thứ 2 tuần này", nov(16)),
    ("thứ 2 này", nov(16)),
    ("thứ 2", nov(16)),
    ("thứ 4", nov(18)),
    ("thứ 5", nov(12)),
    ("thứ hai", nov(16)),
    ("T2", nov(16)),
    ("chủ nhật", nov(15)),
    ("CN tuần trước", nov(15)),
    ("thứ 2 tuần trước", nov(9)),
    ("thứ 2 tuần trước nữa", nov(2)),
    ("thứ 2 đến thứ 4 tuần trước", nov(9, 10, 11)),
    ("hôm thứ 2", nov(16)),
    ("thứ 2 đến thứ 4", nov(16, 17, 18)),
    ("thứ 6 đến thứ 2", nov(13, 14, 15, 16)),  # over the weekend
    ("thứ 2 tuần trước đến hôm nay", days_between(date(2026, 11, 9), TODAY)),
    # weeks
    ("tuần này", nov(16, 17, 18)),  # Monday to today
    ("tuần trước", days_between(date(2026, 11, 9), date(2026, 11, 15))),
    ("tuần vừa rồi", days_between(date(2026, 11, 9), date(2026, 11, 15))),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted(text: str, expected: tuple[date, ...]) -> None:
    assert parse_visit_days(text, TODAY) == DaysParse(days=expected)


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_without_diacritics(text: str, expected: tuple[date, ...]) -> None:
    assert parse_visit_days(plain(text), TODAY).days == expected


@pytest.mark.parametrize(
    "text", ["Thứ Hai tuần trước", "THỨ 2 TUẦN TRƯỚC", "thu hai tuan truoc", "thứ 2  tuần   trước"]
)
def test_case_spacing_and_decomposed_marks(text: str) -> None:
    assert parse_visit_days(text, TODAY).days == nov(9)
    assert parse_visit_days(unicodedata.normalize("NFD", text), TODAY).days == nov(9)


REFUSED: list[tuple[str, DaysProblem, str, tuple[date, ...]]] = [
    ("abc", DaysProblem.NOT_A_DATE, "abc", ()),
    ("", DaysProblem.NOT_A_DATE, "", ()),
    ("ngày mai nữa", DaysProblem.NOT_A_DATE, "ngày mai nữa", ()),
    ("12", DaysProblem.NOT_A_DATE, "12", ()),  # which month?
    ("12, 13", DaysProblem.NOT_A_DATE, "12", ()),
    ("12 đến 16", DaysProblem.NOT_A_DATE, "12 đến 16", ()),
    ("thứ 8", DaysProblem.NOT_A_DATE, "thứ 8", ()),
    ("12/11, đi họp", DaysProblem.NOT_A_DATE, "đi họp", ()),
    ("12/11 @ xã", DaysProblem.NOT_A_DATE, "@", ()),
    ("32/13", DaysProblem.IMPOSSIBLE, "32/13", ()),
    ("30/2", DaysProblem.IMPOSSIBLE, "30/2", ()),
    ("0/11", DaysProblem.IMPOSSIBLE, "0/11", ()),
    ("29/2/2027", DaysProblem.IMPOSSIBLE, "29/2/2027", ()),
    ("12/11, 31/11", DaysProblem.IMPOSSIBLE, "31/11", ()),
    ("30,31/11", DaysProblem.IMPOSSIBLE, "31/11", ()),
    ("31,30/11", DaysProblem.IMPOSSIBLE, "31", ()),
    ("19/11/2026", DaysProblem.FUTURE, "19/11/2026", nov(19)),
    ("ngày mai", DaysProblem.FUTURE, "ngày mai", nov(19)),
    ("thứ 5 tuần này", DaysProblem.FUTURE, "thứ 5 tuần này", nov(19)),
    ("thứ 2 tuần sau", DaysProblem.FUTURE, "thứ 2 tuần sau", nov(23)),
    ("12/11, 17-20/11", DaysProblem.FUTURE, "17-20/11", nov(19, 20)),
    ("12/11-20/11", DaysProblem.FUTURE, "12/11-20/11", nov(19, 20)),  # a range reads as one
    ("17,19/11", DaysProblem.FUTURE, "17,19/11", nov(19)),  # one month, one year
    ("16/11-12/11", DaysProblem.RANGE_BACKWARDS, "16/11-12/11", nov(16, 12)),
    ("16/11 - 12/11/2026", DaysProblem.RANGE_BACKWARDS, "16/11 - 12/11/2026", nov(16, 12)),
    ("16 đến 12/11", DaysProblem.RANGE_BACKWARDS, "16 đến 12/11", nov(16, 12)),
    ("hôm nay đến hôm qua", DaysProblem.RANGE_BACKWARDS, "hôm nay đến hôm qua", nov(18, 17)),
    (
        "thứ 4 đến thứ 2 tuần này",
        DaysProblem.RANGE_BACKWARDS,
        "thứ 4 đến thứ 2 tuần này",
        nov(18, 16),
    ),
    ("1/12-10/1", DaysProblem.TOO_LONG, "1/12-10/1", (date(2025, 12, 1), date(2026, 1, 10))),
    ("1/10-15/11", DaysProblem.TOO_LONG, "1/10-15/11", (date(2026, 10, 1), date(2026, 11, 15))),
    (
        "1/1/2026-1/2/2026",
        DaysProblem.TOO_LONG,
        "1/1/2026-1/2/2026",
        (date(2026, 1, 1), date(2026, 2, 1)),
    ),
]


@pytest.mark.parametrize(("text", "problem", "offending", "bad_days"), REFUSED)
def test_refused(
    text: str, problem: DaysProblem, offending: str, bad_days: tuple[date, ...]
) -> None:
    assert parse_visit_days(text, TODAY) == DaysParse(
        problem=problem, text=offending, bad_days=bad_days
    )


@pytest.mark.parametrize(("text", "problem", "offending", "bad_days"), REFUSED)
def test_refused_without_diacritics(
    text: str, problem: DaysProblem, offending: str, bad_days: tuple[date, ...]
) -> None:
    found = parse_visit_days(plain(text), TODAY)
    assert (found.problem, found.text, found.bad_days) == (problem, plain(offending), bad_days)
    assert not found.ok and found.days == ()


def test_the_whole_entry_is_refused() -> None:
    found = parse_visit_days("12/11, 13/11, 19/11/2026", TODAY)
    assert found.problem is DaysProblem.FUTURE and found.days == ()


def test_span_limit_is_a_parameter() -> None:
    assert parse_visit_days("1/10-15/11", TODAY, max_span_days=60).ok
    assert parse_visit_days("12/11-16/11", TODAY, max_span_days=4).problem is DaysProblem.TOO_LONG


def test_new_year() -> None:
    # A trip over New Year, logged in early January.
    assert parse_visit_days("28/12-03/01", date(2027, 1, 5)).days == days_between(
        date(2026, 12, 28), date(2027, 1, 3)
    )
    assert parse_visit_days("28/12-03/01", date(2027, 1, 2)).bad_days == (date(2027, 1, 3),)
    assert parse_visit_days("30/12, 2/1", date(2027, 1, 5)).days == (
        date(2026, 12, 30),
        date(2027, 1, 2),
    )
    assert parse_visit_days("tuần trước", date(2027, 1, 1)).days == days_between(
        date(2026, 12, 21), date(2026, 12, 27)
    )


@given(
    st.dates(date(2001, 1, 1), date(2098, 12, 31)), st.dates(date(2001, 1, 1), date(2098, 12, 31))
)
def test_a_date_without_a_year_is_never_after_today(target: date, today: date) -> None:
    found = parse_visit_days(f"{target.day}/{target.month}", today)
    assert found.ok
    (day,) = found.days
    assert (day.day, day.month) == (target.day, target.month)
    assert day <= today and (today - day).days < 366 * 4  # 29/2 may be up to 8 years back
    with_year = parse_visit_days(f"{target.day:02d}/{target.month:02d}/{target.year}", today)
    if target <= today:
        assert with_year.days == (target,)
    else:
        assert with_year.problem is DaysProblem.FUTURE and with_year.bad_days == (target,)


@given(st.dates(date(2001, 1, 1), date(2098, 12, 31)), st.integers(0, 40), st.integers(0, 40))
def test_ranges(today: date, back: int, length: int) -> None:
    first = today - timedelta(days=back)
    last = first + timedelta(days=length)
    found = parse_visit_days(f"{first.day}/{first.month} - {last.day}/{last.month}", today)
    if length + 1 > 31:  # even over New Year: "1/12 - 10/1" is long, not backwards
        assert found.problem is DaysProblem.TOO_LONG and found.bad_days == (first, last)
    elif last > today:
        assert found.problem is DaysProblem.FUTURE
        assert found.bad_days == days_between(today + timedelta(days=1), last)
    else:
        assert found.days == days_between(first, last)


@given(st.text(max_size=30), st.dates(date(2001, 1, 1), date(2098, 12, 31)))
def test_any_text_gives_past_days_or_a_problem(text: str, today: date) -> None:
    found = parse_visit_days(text, today)
    if found.ok:
        assert found.days and list(found.days) == sorted(set(found.days))
        assert found.days[-1] <= today
    else:
        assert found.days == () and found.text in text


def test_the_ends_of_the_calendar_are_refused_not_raised() -> None:
    assert parse_visit_days("ngày mai", date(9999, 12, 31)).problem is DaysProblem.IMPOSSIBLE
    assert parse_visit_days("hôm kia", date(1, 1, 1)).problem is DaysProblem.IMPOSSIBLE
