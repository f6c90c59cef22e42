"""Quiet hours: when non-urgent messages (reminders, broadcasts) must wait. Pure.

A quiet window runs from ``start`` (included) to ``end`` (excluded), both local
wall-clock "HH:MM" times in the unit's zone. A window whose start is after its end
spans midnight (the default, 21:30–07:00); ``start == end`` means no quiet hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

from scheduler.recurrence import parse_hhmm

__all__ = ["DEFAULT_END", "DEFAULT_START", "in_quiet_hours", "next_allowed"]

DEFAULT_START = "21:30"
DEFAULT_END = "07:00"


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("at_utc must be timezone-aware")


def _in_window(wall: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def in_quiet_hours(
    at_utc: datetime, tz: tzinfo, start: str = DEFAULT_START, end: str = DEFAULT_END
) -> bool:
    """Whether ``at_utc`` falls in the quiet window of local zone ``tz``."""
    _require_aware(at_utc)
    wall = at_utc.astimezone(tz).time().replace(tzinfo=None)
    return _in_window(wall, parse_hhmm(start), parse_hhmm(end))


def next_allowed(
    at_utc: datetime, tz: tzinfo, start: str = DEFAULT_START, end: str = DEFAULT_END
) -> datetime:
    """The first moment at or after ``at_utc`` outside quiet hours, in UTC.

    That is ``at_utc`` itself (converted to UTC) when it is allowed, else the end of
    the quiet window it falls in. Where a daylight-saving change skips the window's end
    time, the window is taken to end at that wall time read with the offset from
    before the change (at most the length of the gap late); Asia/Ho_Chi_Minh has no
    such changes.
    """
    _require_aware(at_utc)
    start_time, end_time = parse_hhmm(start), parse_hhmm(end)
    at_utc = at_utc.astimezone(UTC)
    if not _in_window(at_utc.astimezone(tz).time().replace(tzinfo=None), start_time, end_time):
        return at_utc
    # The window ends at the next instant whose wall clock reads ``end``: on the local
    # date of ``at_utc`` or the next one. Both readings of a repeated wall time (fold)
    # are tried so that a window ending in a repeated hour ends at the right one.
    today = at_utc.astimezone(tz).date()
    candidates = []
    for offset in (0, 1, 2):
        for fold in (0, 1):
            local = datetime.combine(today + timedelta(days=offset), end_time, tzinfo=tz)
            moment = local.replace(fold=fold).astimezone(UTC)
            wall = moment.astimezone(tz).time().replace(tzinfo=None)
            if moment >= at_utc and not _in_window(wall, start_time, end_time):
                candidates.append(moment)
    return min(candidates)
