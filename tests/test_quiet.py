"""Quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.quiet import in_quiet_hours, next_allowed

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(hour: int, minute: int = 0, day: int = 22) -> datetime:
    """A Vietnam wall time on 2026-11-<day>, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=VN).astimezone(UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [
        (21, 29, False),
        (21, 30, True),
        (23, 59, True),
        (0, 0, True),
        (6, 59, True),
        (7, 0, False),
        (12, 0, False),
    ],
)
def test_default_window_spans_midnight(hour: int, minute: int, quiet: bool) -> None:
    assert in_quiet_hours(vn(hour, minute), VN) is quiet


def test_window_within_a_day() -> None:
    assert in_quiet_hours(vn(12, 30), VN, "12:00", "13:30")
    assert not in_quiet_hours(vn(13, 30), VN, "12:00", "13:30")
    assert not in_quiet_hours(vn(11, 59), VN, "12:00", "13:30")
    assert next_allowed(vn(12, 30), VN, "12:00", "13:30") == vn(13, 30)


def test_equal_start_and_end_means_no_quiet_hours() -> None:
    for hour in range(24):
        assert not in_quiet_hours(vn(hour), VN, "22:00", "22:00")
        assert next_allowed(vn(hour), VN, "22:00", "22:00") == vn(hour)


def test_next_allowed() -> None:
    assert next_allowed(vn(12), VN) == vn(12)
    assert next_allowed(vn(22), VN) == vn(7, 0, day=23)  # before midnight: next morning
    assert next_allowed(vn(3), VN) == vn(7)  # after midnight: this morning
    assert next_allowed(vn(21, 30), VN) == vn(7, 0, day=23)
    assert next_allowed(vn(7), VN) == vn(7)


def test_next_allowed_returns_utc() -> None:
    at = datetime(2026, 11, 22, 23, 0, tzinfo=VN)  # given in local time
    result = next_allowed(at, VN)
    assert result.tzinfo is UTC
    assert result == datetime(2026, 11, 23, 7, 0, tzinfo=VN)


def test_naive_datetimes_and_bad_times_are_refused() -> None:
    with pytest.raises(ValueError):
        in_quiet_hours(datetime(2026, 1, 1), VN)
    with pytest.raises(ValueError):
        next_allowed(vn(12), VN, "25:00", "07:00")


# --- properties -------------------------------------------------------------------

hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
instants = st.datetimes(datetime(2000, 1, 1), datetime(2060, 1, 1), timezones=st.just(UTC))
FIXED_ZONES = [VN, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata"), ZoneInfo("Pacific/Kiritimati")]
DST_ZONES = [
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),  # a 30-minute change
]


@given(instants, st.sampled_from(FIXED_ZONES), hhmm, hhmm)
def test_next_allowed_properties(at: datetime, tz: ZoneInfo, start: str, end: str) -> None:
    result = next_allowed(at, tz, start, end)
    assert not in_quiet_hours(result, tz, start, end)
    assert at <= result <= at + timedelta(hours=24)
    assert (result == at) is (not in_quiet_hours(at, tz, start, end))
    # Nothing allowed is skipped: the minute before the result is still quiet.
    if result > at:
        assert in_quiet_hours(max(at, result - timedelta(minutes=1)), tz, start, end)


@given(instants, st.sampled_from(DST_ZONES), hhmm, hhmm)
def test_next_allowed_across_daylight_saving(
    at: datetime, tz: ZoneInfo, start: str, end: str
) -> None:
    result = next_allowed(at, tz, start, end)
    assert not in_quiet_hours(result, tz, start, end)
    # A quiet window spanning a daylight-saving change can be an hour longer.
    assert at <= result <= at + timedelta(hours=25)
