"""The reminder plan for one meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.reminders import SECRETARY_PREP, member_kind, reminder_times

START = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)  # 19:30 in Vietnam
H = timedelta(hours=1)
D = timedelta(days=1)


def plan(
    now: datetime, days: int = 3, hours: list[int] | None = None
) -> list[tuple[str, datetime]]:
    return reminder_times(START, now, days, [24, 2] if hours is None else hours)


def test_planned_well_ahead() -> None:
    assert plan(START - 10 * D) == [
        ("secretary_prep", START - 3 * D),
        ("member_24h", START - 24 * H),
        ("member_2h", START - 2 * H),
    ]


def test_meeting_created_three_hours_before_it_starts() -> None:
    now = START - 3 * H
    # The secretary's 3-day and the members' 24 h reminders are far too late: dropped.
    assert plan(now) == [("member_2h", START - 2 * H)]


def test_late_but_within_its_margin_goes_out_now() -> None:
    now = START - 20 * H  # the 24 h reminder is 4 h late, within half of 24 h
    assert plan(now, days=1) == [
        ("secretary_prep", now),  # 4 h late, within half a day
        ("member_24h", now),
        ("member_2h", START - 2 * H),
    ]


def test_margin_is_half_the_lead() -> None:
    assert plan(START - 12 * H, days=0) == [
        ("member_24h", START - 12 * H),
        ("member_2h", START - 2 * H),
    ]
    assert plan(START - 12 * H + timedelta(seconds=1), days=0) == [("member_2h", START - 2 * H)]
    now = START - 36 * H  # the 3-day reminder is 36 h late: exactly its margin
    assert plan(now, days=3)[0] == ("secretary_prep", now)
    later = now + timedelta(seconds=1)
    assert plan(later, days=3)[0] == ("member_24h", START - 24 * H)


def test_last_member_reminder_is_sent_while_the_meeting_has_not_started() -> None:
    now = START - timedelta(minutes=10)
    assert plan(now) == [("member_2h", now)]
    assert plan(START - timedelta(seconds=1), hours=[2]) == [
        ("member_2h", START - timedelta(seconds=1))
    ]


def test_nothing_once_the_meeting_has_started() -> None:
    assert plan(START) == []
    assert plan(START + H) == []


def test_late_member_reminders_collapse_to_one() -> None:
    now = START - 15 * H  # 24 h is 9 h late (< 12 h), 20 h is 5 h late (< 10 h)
    assert plan(now, days=0, hours=[24, 20, 2]) == [
        ("member_20h", now),
        ("member_2h", START - 2 * H),
    ]


def test_a_late_reminder_and_one_due_now_collapse_too() -> None:
    now = START - 20 * H
    assert plan(now, days=0, hours=[24, 20, 2]) == [
        ("member_20h", now),
        ("member_2h", START - 2 * H),
    ]


def test_secretary_reminder_off_and_odd_hours() -> None:
    assert plan(START - 10 * D, days=0, hours=[2, 24, 24, 0, -5]) == [
        ("member_24h", START - 24 * H),
        ("member_2h", START - 2 * H),
    ]
    assert plan(START - 10 * D, days=3, hours=[]) == [("secretary_prep", START - 3 * D)]
    assert member_kind(24) == "member_24h"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        reminder_times(START.replace(tzinfo=None), START, 3, [24])


@given(
    st.integers(-100 * 3600, 10 * 24 * 3600),
    st.integers(0, 7),
    st.lists(st.integers(1, 72), max_size=4),
)
def test_plan_properties(seconds_before: int, days: int, hours: list[int]) -> None:
    now = START - timedelta(seconds=seconds_before)
    planned = reminder_times(START, now, days, hours)
    if now >= START:
        assert planned == []
        return
    kinds = [kind for kind, _ in planned]
    assert len(kinds) == len(set(kinds))
    assert [due for _, due in planned] == sorted(due for _, due in planned)
    for _kind, due in planned:
        assert now <= due < START
    member_dues = [due for kind, due in planned if kind != SECRETARY_PREP]
    assert len(member_dues) == len(set(member_dues))  # never two at once
    if hours:
        # The last member reminder is always there.
        assert member_kind(min(hours)) in kinds
