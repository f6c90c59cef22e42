"""Attendance rules: absence streaks, the strike-off threshold, attendance rate."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.attendance import (
    STRIKE_OFF_THRESHOLD,
    TWO_IN_A_ROW,
    Mark,
    MarkLike,
    absence_streak,
    absences_in_year,
    attendance_rate,
    should_flag,
)


def monthly(year: int, presences: list[bool], first_month: int = 1) -> list[Mark]:
    return [Mark(date(year, first_month + i, 25), present) for i, present in enumerate(presences)]


@pytest.mark.parametrize(
    ("history", "streak"),
    [
        ([], 0),
        ([True], 0),
        ([False], 1),
        ([True, False, False], 2),
        ([False, True, False], 1),
        ([False, False, False, True], 0),
        ([False] * 5, 5),
    ],
)
def test_absence_streak(history: list[bool], streak: int) -> None:
    assert absence_streak(history) == streak


def test_absences_in_year() -> None:
    history: list[MarkLike] = [
        (date(2025, 12, 25), False),
        (date(2026, 1, 25), False),
        (date(2026, 2, 25), True),
        (date(2026, 3, 25), False, True),  # excused
        Mark(date(2026, 4, 25), False),
    ]
    assert absences_in_year(history, 2026) == 2
    assert absences_in_year(history, 2025) == 1
    assert absences_in_year(history, 2024) == 0


def test_should_flag() -> None:
    assert should_flag([]) is None
    assert should_flag(monthly(2026, [True, True, False])) is None
    assert should_flag(monthly(2026, [True, False, False])) == TWO_IN_A_ROW
    assert should_flag(monthly(2026, [False, False, False])) == STRIKE_OFF_THRESHOLD
    # Three absences in the year, not in a row, reach the threshold too.
    assert should_flag(monthly(2026, [False, True, False, True, False])) == STRIKE_OFF_THRESHOLD
    # Coming back to a meeting ends the streak.
    assert should_flag(monthly(2026, [False, False, True])) is None


def test_excused_absences_do_not_count() -> None:
    history = [
        Mark(date(2026, 1, 25), False),
        Mark(date(2026, 2, 25), False, excused=True),
        Mark(date(2026, 3, 25), False),
    ]
    # Excused absences neither count nor break the streak.
    assert should_flag(history) == TWO_IN_A_ROW
    history.append(Mark(date(2026, 4, 25), False, excused=True))
    assert should_flag(history) == TWO_IN_A_ROW
    assert should_flag([Mark(date(2026, 1, 25), False, True)] * 5) is None


def test_strike_off_counts_per_year() -> None:
    history = [*monthly(2025, [False, False], first_month=11), *monthly(2026, [False])]
    assert should_flag(history) == TWO_IN_A_ROW  # a long streak across New Year still warns
    assert should_flag(history, 2025) == TWO_IN_A_ROW
    assert should_flag(history, 2025, strike_off_threshold=2) == STRIKE_OFF_THRESHOLD


def test_thresholds_are_arguments() -> None:
    history = monthly(2026, [True, False, False, False])
    assert should_flag(history, streak_threshold=4, strike_off_threshold=4) is None
    assert should_flag(history, streak_threshold=3, strike_off_threshold=4) == TWO_IN_A_ROW
    assert should_flag(history, strike_off_threshold=3) == STRIKE_OFF_THRESHOLD


def test_unsorted_history_is_ordered_by_date() -> None:
    history = list(reversed(monthly(2026, [True, False, False])))
    assert should_flag(history) == TWO_IN_A_ROW


def test_attendance_rate() -> None:
    assert attendance_rate(15, 20) == 0.75
    assert attendance_rate(0, 20) == 0.0
    assert attendance_rate(0, 0) is None
    assert attendance_rate(25, 20) == 1.0
    with pytest.raises(ValueError):
        attendance_rate(-1, 20)


@given(st.lists(st.booleans(), max_size=12))
def test_flags_agree_with_the_counts(presences: list[bool]) -> None:
    history = monthly(2026, presences)
    flag = should_flag(history)
    absences = presences.count(False)
    if absences >= 3:
        assert flag == STRIKE_OFF_THRESHOLD
    elif absence_streak(presences) >= 2:
        assert flag == TWO_IN_A_ROW
    else:
        assert flag is None
    assert absences_in_year(history, 2026) == absences
