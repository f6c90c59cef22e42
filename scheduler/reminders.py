"""The reminder plan for one meeting: which reminders to send, and when. Pure.

Each reminder has a lead time before the meeting starts: ``secretary_days`` days for
the secretary's "prepare the agenda" reminder (kind ``"secretary_prep"``), and each of
``member_hours`` hours for the members' reminders (kinds ``"member_24h"``,
``"member_2h"``...). Its due time is ``starts_at - lead``.

When the plan is made late (a meeting created or moved shortly before it starts, or
the bot was down), some due times have already passed. The rule:

* A reminder is **on time** when its due time is still ahead (or exactly now): it is
  planned for its due time.
* A reminder is **late but useful** when it is overdue by no more than its margin,
  ``grace_fraction`` (half by default) of its own lead time: it is planned for ``now``.
  A 24 h reminder computed 20 h before the meeting is 4 h late, within its 12 h margin,
  and goes out at once; computed 3 h before the meeting it is 21 h late and dropped.
* Otherwise it is dropped, **except the last member reminder** (the shortest lead),
  which is always planned while the meeting has not started: members hear about a
  meeting at least once.
* Member reminders that would go out now (late ones, and one due this very moment) are
  collapsed to the one with the shortest lead, so members never get two reminders for
  the same meeting at the same moment.

Nothing is planned once the meeting has started. A lead of 0 or less disables that
reminder (``secretary_days=0`` turns the secretary's reminder off). Quiet hours are
not applied here: pass each due time through :func:`scheduler.quiet.next_allowed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

__all__ = ["SECRETARY_PREP", "member_kind", "reminder_times"]

SECRETARY_PREP = "secretary_prep"


def member_kind(hours: int) -> str:
    """The kind of the member reminder sent ``hours`` before a meeting: "member_24h"."""
    return f"member_{hours}h"


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def reminder_times(
    starts_at: datetime,
    now: datetime,
    secretary_days: int,
    member_hours: Iterable[int],
    *,
    grace_fraction: float = 0.5,
) -> list[tuple[str, datetime]]:
    """The reminders to plan for a meeting starting at ``starts_at``, seen at ``now``.

    Returns (kind, due time in UTC) pairs sorted by due time; see the module docstring
    for which late reminders are kept. Duplicate and non-positive ``member_hours`` are
    ignored.
    """
    _require_aware(starts_at, "starts_at")
    _require_aware(now, "now")
    if not grace_fraction >= 0:
        raise ValueError("grace_fraction must not be negative")
    starts_at, now = starts_at.astimezone(UTC), now.astimezone(UTC)
    if now >= starts_at:
        return []

    def plan(lead: timedelta, *, always: bool = False) -> datetime | None:
        due = starts_at - lead
        if due >= now:
            return due
        if always or now - due <= lead * grace_fraction:
            return now
        return None

    planned: list[tuple[str, datetime]] = []
    if secretary_days > 0:
        due = plan(timedelta(days=secretary_days))
        if due is not None:
            planned.append((SECRETARY_PREP, due))

    hours = sorted({h for h in member_hours if h > 0}, reverse=True)  # longest lead first
    late_member: tuple[str, datetime] | None = None
    for index, hour in enumerate(hours):
        due = plan(timedelta(hours=hour), always=index == len(hours) - 1)
        if due is None:
            continue
        if due == now:  # late, or due this very moment
            late_member = (member_kind(hour), due)  # a shorter lead replaces a longer one
        else:
            planned.append((member_kind(hour), due))
    if late_member is not None:
        planned.append(late_member)

    return sorted(planned, key=lambda item: item[1])
