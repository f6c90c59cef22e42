"""Attendance rules for chi đoàn meetings. Pure.

A member who misses meetings for 3 months in a year without good reason may be struck
off (xóa tên) by the chi đoàn; the secretary is warned well before that, after 2
absences in a row. Both thresholds are arguments.

A history is a member's record at the meetings they were expected at, oldest first.
:func:`absence_streak` takes plain booleans (True = present). The dated functions take
:class:`Mark` tuples — or plain ``(date, present)`` / ``(date, present, excused)``
tuples — where ``excused`` marks an absence with a good reason (reported and
accepted): it is not counted towards either threshold and does not break a streak.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import NamedTuple

__all__ = [
    "STRIKE_OFF_THRESHOLD",
    "TWO_IN_A_ROW",
    "Mark",
    "MarkLike",
    "absence_streak",
    "absences_in_year",
    "attendance_rate",
    "should_flag",
]

TWO_IN_A_ROW = "two_in_a_row"
STRIKE_OFF_THRESHOLD = "strike_off_threshold"


class Mark(NamedTuple):
    """One expected meeting: its (local) date, whether the member came, and whether an
    absence had a good reason."""

    on: date
    present: bool
    excused: bool = False


MarkLike = Mark | tuple[date, bool] | tuple[date, bool, bool]


def _mark(item: MarkLike) -> Mark:
    return item if isinstance(item, Mark) else Mark(*item)


def absence_streak(history: Sequence[bool]) -> int:
    """How many meetings in a row the member has missed, counting back from the latest.

    ``history`` is oldest to newest, True = present: ``[True, False, False]`` → 2.
    """
    streak = 0
    for present in reversed(history):
        if present:
            break
        streak += 1
    return streak


def absences_in_year(history_with_dates: Iterable[MarkLike], year: int) -> int:
    """Absences without good reason at meetings held in ``year``."""
    return sum(
        1
        for mark in map(_mark, history_with_dates)
        if mark.on.year == year and not mark.present and not mark.excused
    )


def should_flag(
    history: Iterable[MarkLike],
    year: int | None = None,
    *,
    streak_threshold: int = 2,
    strike_off_threshold: int = 3,
) -> str | None:
    """What the secretary should be told about a member, if anything.

    * ``"strike_off_threshold"`` when the absences without good reason in ``year``
      (default: the year of the latest meeting) reach ``strike_off_threshold``;
    * else ``"two_in_a_row"`` when the latest ``streak_threshold`` or more meetings were
      missed without good reason (excused absences are skipped). With the defaults that
      is a streak of exactly 2, as a streak of 3 within one year is a strike-off; a
      longer streak across New Year still warns;
    * else None.

    The history need not be sorted; it is ordered by date here. Deduplicating the
    warnings (telling the secretary once per streak) is the caller's job.
    """
    marks = sorted(map(_mark, history), key=lambda mark: mark.on)
    if not marks:
        return None
    if year is None:
        year = marks[-1].on.year
    if absences_in_year(marks, year) >= strike_off_threshold:
        return STRIKE_OFF_THRESHOLD
    streak = absence_streak([mark.present for mark in marks if not mark.excused])
    if streak >= streak_threshold:
        return TWO_IN_A_ROW
    return None


def attendance_rate(present: int, expected: int) -> float | None:
    """The share of expected members who came, 0.0–1.0; None when nobody was expected.

    More present than expected (guests, a roster change) counts as 1.0. Negative counts
    raise ValueError.
    """
    if present < 0 or expected < 0:
        raise ValueError("counts must not be negative")
    if expected == 0:
        return None
    return min(1.0, present / expected)
