"""The rules of "1+2": full-time cadres at the grassroots (đi cơ sở). Pure.

Full-time cadres of a province/city union spend a target number of days a year at
the grassroots, counted cumulatively (cộng dồn): distinct calendar days, so a day
logged twice, or covered both by a trip and by a single-day entry, counts once. Within
that they make thematic trips (đợt chuyên đề) of 5–7 days each, at least two, never
back-to-back, and report on each trip within 10 days. Some cadres are exempt, with a
recorded reason. Every number that differs between provinces is a field of
:class:`FieldVisitRules`.

Dates are local calendar dates; a window is a ``(first, last)`` pair, both included.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

__all__ = [
    "CadreSummary",
    "Exemption",
    "ExemptionReason",
    "FieldVisitRules",
    "Pace",
    "Trip",
    "TripProblem",
    "TripsVerdict",
    "Window",
    "check_trip",
    "check_trips",
    "count_days",
    "counting_window",
    "exempt_on",
    "gap_days",
    "may_correct",
    "needs_approval_late",
    "overdue",
    "pace",
    "report_due",
    "summarise",
    "window_days",
]

Window = tuple[date, date]


@dataclass(frozen=True, slots=True)
class FieldVisitRules:
    """A province's settings for "1+2"; the defaults are the city union's 2023–2027 plan."""

    target_days: int = 60  # some provinces set 30
    window_start_month: int = 1  # 1 = the calendar year; 3 = March to end of February
    trip_min_days: int = 5
    trip_max_days: int = 7
    trips_required: int = 2
    trip_min_gap_days: int = 1  # free days between two trips; 1 = not back-to-back
    report_due_days: int = 10  # a trip report is due within this many days of its end
    late_entry_days: int = 10  # logging a day older than this needs approval
    correction_days: int = 7  # a cadre may change own entries this long after logging
    pace_tolerance_days: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.window_start_month <= 12:
            raise ValueError("window_start_month must be 1–12")
        if not 1 <= self.trip_min_days <= self.trip_max_days:
            raise ValueError("need 1 <= trip_min_days <= trip_max_days")
        counts = (
            self.target_days,
            self.trips_required,
            self.trip_min_gap_days,
            self.report_due_days,
            self.late_entry_days,
            self.correction_days,
            self.pace_tolerance_days,
        )
        if min(counts) < 0:
            raise ValueError("day counts must not be negative")


# --- counting ------------------------------------------------------------------------


def counting_window(rules: FieldVisitRules, on: date) -> Window:
    """The counting year that contains ``on``: from the 1st of the start month, a year."""
    year = on.year if on.month >= rules.window_start_month else on.year - 1
    first = date(year, rules.window_start_month, 1)
    return first, date(year + 1, rules.window_start_month, 1) - timedelta(days=1)


def window_days(window: Window) -> int:
    """How many days a window holds, both ends included."""
    return max(0, (window[1] - window[0]).days + 1)


def count_days(days: Iterable[date], window: Window) -> int:
    """Days at the grassroots in the window, counted cumulatively: each calendar day once."""
    first, last = window
    return len({day for day in days if first <= day <= last})


# --- trips ---------------------------------------------------------------------------


class TripProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    IN_FUTURE = "in_future"  # a finished trip cannot end after today
    ENDS_BEFORE_START = "ends_before_start"


@dataclass(frozen=True, slots=True, order=True)
class Trip:
    """A thematic trip (đợt chuyên đề), first and last day included."""

    start: date
    end: date

    @property
    def length(self) -> int:
        """Days of the trip; zero or less when it ends before it starts."""
        return (self.end - self.start).days + 1

    def days(self) -> Iterator[date]:
        """Each day of the trip (none when it ends before it starts)."""
        return (self.start + timedelta(days=n) for n in range(max(0, self.length)))


def gap_days(a: Trip, b: Trip) -> int:
    """Days off-trip between the earlier-starting trip's end and the other's start.

    0 means back-to-back; negative means they overlap.
    """
    first, second = sorted((a, b))
    return (second.start - first.end).days - 1


def _shape_problems(trip: Trip, rules: FieldVisitRules) -> list[TripProblem]:
    if trip.end < trip.start:
        return [TripProblem.ENDS_BEFORE_START]
    if trip.length < rules.trip_min_days:
        return [TripProblem.TOO_SHORT]
    if trip.length > rules.trip_max_days:
        return [TripProblem.TOO_LONG]
    return []


def check_trip(trip: Trip, rules: FieldVisitRules, today: date) -> list[TripProblem]:
    """What is wrong with a finished trip: each lasts 5–7 days and has already ended."""
    problems = _shape_problems(trip, rules)
    if max(trip.start, trip.end) > today:
        problems.append(TripProblem.IN_FUTURE)
    return problems


@dataclass(frozen=True, slots=True)
class TripsVerdict:
    """The thematic trips of one counting year.

    ``valid``: well-shaped trips starting in the window, by start (duplicates once).
    ``rejected``: the other trips starting in the window, with what is wrong.
    ``accepted``: the most valid trips of which no two are back-to-back or overlap —
    such trips count as one, so ``count`` and ``enough`` are taken from these.
    ``too_close``: every pair of valid trips that is back-to-back or overlaps.
    """

    valid: tuple[Trip, ...]
    rejected: tuple[tuple[Trip, tuple[TripProblem, ...]], ...]
    accepted: tuple[Trip, ...]
    too_close: tuple[tuple[Trip, Trip], ...]
    required: int

    @property
    def count(self) -> int:
        return len(self.accepted)

    @property
    def enough(self) -> bool:
        return self.count >= self.required


def _spaced(trips: Sequence[Trip], min_gap: int) -> tuple[Trip, ...]:
    """The most trips pairwise at least ``min_gap`` days apart.

    Earliest end first is optimal (interval scheduling): a trip that ends sooner
    leaves at least as much room for the rest.
    """
    chosen: list[Trip] = []
    for trip in sorted(trips, key=lambda t: (t.end, t.start)):
        if not chosen or (trip.start - chosen[-1].end).days - 1 >= min_gap:
            chosen.append(trip)
    return tuple(sorted(chosen))


def check_trips(trips: Iterable[Trip], rules: FieldVisitRules, window: Window) -> TripsVerdict:
    """Whether the year's trips meet "at least 2 trips of 5–7 days, not back-to-back".

    A trip belongs to the counting year in which it starts: it is registered in that
    year's quarterly plan, even if it runs over New Year.
    """
    in_window = sorted({trip for trip in trips if window[0] <= trip.start <= window[1]})
    checked = [(trip, tuple(_shape_problems(trip, rules))) for trip in in_window]
    valid = [trip for trip, problems in checked if not problems]
    too_close = tuple(
        (a, b)
        for i, a in enumerate(valid)
        for b in valid[i + 1 :]
        if gap_days(a, b) < rules.trip_min_gap_days
    )
    return TripsVerdict(
        valid=tuple(valid),
        rejected=tuple((trip, problems) for trip, problems in checked if problems),
        accepted=_spaced(valid, rules.trip_min_gap_days),
        too_close=too_close,
        required=rules.trips_required,
    )


# --- pace ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pace:
    """How a cadre stands against the year's target on a given day."""

    days_so_far: int
    days_needed: int  # still to go; never negative
    expected_by_now: int  # the target's share for the part of the year gone by
    behind_by: int  # never negative
    on_pace: bool
    days_left_in_window: int  # days after the given one, to the window's end
    feasible: bool  # the days needed still fit in the days left


def pace(days_counted: int, rules: FieldVisitRules, window: Window, on: date) -> Pace:
    """Whether a cadre is keeping up with the target, as of ``on`` (which has gone by).

    Expected by now is the target times the share of the window elapsed, rounded
    down. A cadre is on pace within ``pace_tolerance_days`` of it, or once the target
    is reached.
    """
    length = window_days(window)
    elapsed = min(length, max(0, (on - window[0]).days + 1))
    expected = rules.target_days * elapsed // length if length else 0
    needed = max(0, rules.target_days - days_counted)
    left = length - elapsed
    return Pace(
        days_so_far=days_counted,
        days_needed=needed,
        expected_by_now=expected,
        behind_by=max(0, expected - days_counted),
        on_pace=days_counted + rules.pace_tolerance_days >= expected or needed == 0,
        days_left_in_window=left,
        feasible=needed <= left,
    )


# --- deadlines -----------------------------------------------------------------------


def report_due(trip: Trip, rules: FieldVisitRules) -> date:
    """The last day to file a trip's report: within 10 days after the trip ends."""
    return trip.end + timedelta(days=rules.report_due_days)


def overdue(trip: Trip, filed_on: date | None, rules: FieldVisitRules, on: date) -> bool:
    """Whether, as of ``on``, the report's deadline has passed without it being filed in time.

    A report filed late stays overdue (late) on the record: the inspection committee
    rates timeliness. Whether to still remind is the caller's call (``filed_on``).
    """
    due = report_due(trip, rules)
    filed_in_time = filed_on is not None and filed_on <= due
    return on > due and not filed_in_time


def needs_approval_late(day: date, logged_on: date, rules: FieldVisitRules) -> bool:
    """Logging a day more than ``late_entry_days`` after it needs the standing committee."""
    return (logged_on - day).days > rules.late_entry_days


def may_correct(logged_on: date, today: date, rules: FieldVisitRules) -> bool:
    """A cadre may change their own entry up to ``correction_days`` after logging it."""
    return (today - logged_on).days <= rules.correction_days


# --- exemptions ----------------------------------------------------------------------


class ExemptionReason(StrEnum):
    ACCOUNTING_OR_CLERICAL = "accounting_or_clerical"  # accountant, archivist, treasurer
    LONG_SERVICE = "long_service"  # over 20 years of service
    SERIOUS_ILLNESS = "serious_illness"
    PARTY_WORK = "party_work"
    OTHER = "other"  # decided by the standing committee


@dataclass(frozen=True, slots=True)
class Exemption:
    """An exemption from "1+2", from ``start`` to ``end`` (both included; None = open)."""

    reason: ExemptionReason
    start: date
    end: date | None = None

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)


def exempt_on(exemptions: Iterable[Exemption], on: date) -> Exemption | None:
    """The first recorded exemption in force on ``on``, or None."""
    return next((exemption for exemption in exemptions if exemption.covers(on)), None)


# --- one cadre for a report ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CadreSummary:
    """One cadre's line in a "1+2" report, as of a day.

    Figures are computed for exempt cadres too (an exempt cadre may still go); a
    report counts ``subject`` cadres against the target.
    """

    subject: bool
    exemption: ExemptionReason | None
    went: bool  # at least one day counted
    reached_target: bool
    days: int
    trips_done: int
    trips_enough: bool
    on_pace: bool


def summarise(
    cadre_days: Sequence[date],
    trips: Iterable[Trip],
    exemptions: Iterable[Exemption],
    rules: FieldVisitRules,
    on: date,
) -> CadreSummary:
    """A cadre's standing "as of" ``on``, in the counting year containing it.

    Only days up to and including ``on`` count; a trip counts as done once it has
    ended by then, and its days count as field days, once each, like any other.
    """
    window = counting_window(rules, on)
    so_far = (window[0], min(window[1], on))
    trips = list(trips)
    trip_days = (day for trip in trips for day in trip.days())
    days = count_days([*cadre_days, *trip_days], so_far)
    verdict = check_trips((trip for trip in trips if trip.end <= on), rules, window)
    exemption = exempt_on(exemptions, on)
    return CadreSummary(
        subject=exemption is None,
        exemption=None if exemption is None else exemption.reason,
        went=days > 0,
        reached_target=days >= rules.target_days,
        days=days,
        trips_done=verdict.count,
        trips_enough=verdict.enough,
        on_pace=pace(days, rules, window, on).on_pace,
    )
