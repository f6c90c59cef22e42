"""The rules of "1+2": counting field days, thematic trips, pace, deadlines, exemptions."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.field_visits import (
    CadreSummary,
    Exemption,
    ExemptionReason,
    FieldVisitRules,
    Trip,
    TripProblem,
    check_trip,
    check_trips,
    count_days,
    counting_window,
    exempt_on,
    gap_days,
    may_correct,
    needs_approval_late,
    overdue,
    pace,
    report_due,
    summarise,
    window_days,
)

RULES = FieldVisitRules()
YEAR_2023 = (date(2023, 1, 1), date(2023, 12, 31))


def d(day: int, month: int, year: int = 2023) -> date:
    return date(year, month, day)


def trip(start: date, length: int) -> Trip:
    return Trip(start, start + timedelta(days=length - 1))


# --- strategies ----------------------------------------------------------------------

days_st = st.dates(date(2022, 1, 1), date(2025, 12, 31))
trips_st = st.builds(trip, days_st, st.integers(1, 10))
rules_st = st.builds(
    FieldVisitRules,
    target_days=st.integers(0, 90),
    window_start_month=st.integers(1, 12),
    trip_min_days=st.integers(1, 5),
    trip_max_days=st.integers(5, 9),
    trip_min_gap_days=st.integers(0, 4),
    pace_tolerance_days=st.integers(0, 5),
)


# --- the counting window -------------------------------------------------------------


def test_counting_window() -> None:
    assert counting_window(RULES, d(15, 11)) == YEAR_2023
    march = FieldVisitRules(window_start_month=3)
    assert counting_window(march, d(15, 11)) == (d(1, 3), d(29, 2, 2024))
    assert counting_window(march, d(28, 2)) == (d(1, 3, 2022), d(28, 2))
    assert counting_window(march, d(1, 3)) == (d(1, 3), d(29, 2, 2024))


@given(rules_st, days_st)
def test_the_window_is_the_year_containing_the_day(rules: FieldVisitRules, on: date) -> None:
    first, last = counting_window(rules, on)
    assert first <= on <= last
    assert first.day == 1 and first.month == rules.window_start_month
    assert window_days((first, last)) in (365, 366)
    assert counting_window(rules, last + timedelta(days=1))[0] == last + timedelta(days=1)


# --- counting days -------------------------------------------------------------------


def test_overlaps_never_count_twice() -> None:
    week = list(trip(d(12, 11), 5).days())
    assert count_days([*week, d(14, 11), d(14, 11), d(20, 11)], YEAR_2023) == 6
    assert count_days([d(31, 12, 2022), d(1, 1), d(1, 1, 2024)], YEAR_2023) == 1


@given(
    st.lists(days_st, max_size=40),
    st.lists(trips_st, max_size=6),
    st.randoms(use_true_random=False),
    st.integers(1, 3),
)
def test_no_double_counting(
    days: list[date], trips: list[Trip], shuffler: random.Random, copies: int
) -> None:
    entries = [*days, *(day for t in trips for day in t.days())] * copies
    shuffler.shuffle(entries)
    first, last = YEAR_2023
    expected = len({day for day in entries if first <= day <= last})
    assert count_days(entries, YEAR_2023) == expected
    assert count_days(reversed(entries), YEAR_2023) == expected


@given(st.lists(days_st, max_size=800), rules_st, days_st)
def test_never_more_than_the_window(days: list[date], rules: FieldVisitRules, on: date) -> None:
    window = counting_window(rules, on)
    assert 0 <= count_days(days, window) <= window_days(window)


@given(st.lists(days_st, max_size=40), days_st)
def test_adding_a_day_never_lowers_the_count(days: list[date], extra: date) -> None:
    before = count_days(days, YEAR_2023)
    after = count_days([*days, extra], YEAR_2023)
    assert after - before in (0, 1)


# --- trips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("the_trip", "problems"),
    [
        (trip(d(6, 3), 5), []),
        (trip(d(6, 3), 7), []),
        (trip(d(6, 3), 4), [TripProblem.TOO_SHORT]),
        (trip(d(6, 3), 8), [TripProblem.TOO_LONG]),
        (Trip(d(10, 3), d(6, 3)), [TripProblem.ENDS_BEFORE_START]),
        (trip(d(12, 11), 5), [TripProblem.IN_FUTURE]),  # ends 16/11
        (trip(d(15, 11), 2), [TripProblem.TOO_SHORT, TripProblem.IN_FUTURE]),
        (trip(d(11, 11), 5), []),  # ends today
    ],
)
def test_check_trip(the_trip: Trip, problems: list[TripProblem]) -> None:
    assert check_trip(the_trip, RULES, d(15, 11)) == problems


def test_trip_lengths_are_settings() -> None:
    rules = FieldVisitRules(trip_min_days=3, trip_max_days=10)
    assert check_trip(trip(d(6, 3), 3), rules, d(15, 11)) == []
    assert check_trip(trip(d(6, 3), 10), rules, d(15, 11)) == []


def test_gap_days() -> None:
    assert gap_days(trip(d(1, 3), 5), trip(d(7, 3), 5)) == 1  # 6/3 free
    assert gap_days(trip(d(7, 3), 5), trip(d(1, 3), 5)) == 1  # either order
    assert gap_days(trip(d(1, 3), 5), trip(d(6, 3), 5)) == 0  # back-to-back
    assert gap_days(trip(d(1, 3), 5), trip(d(5, 3), 5)) == -1  # share 5/3


def test_two_trips_with_a_free_day_between_are_enough() -> None:
    verdict = check_trips([trip(d(1, 3), 5), trip(d(7, 3), 5)], RULES, YEAR_2023)
    assert (verdict.count, verdict.enough, verdict.too_close) == (2, True, ())


def test_back_to_back_or_overlapping_trips_count_as_one() -> None:
    first, second = trip(d(1, 3), 5), trip(d(6, 3), 5)
    verdict = check_trips([second, first], RULES, YEAR_2023)
    assert verdict.valid == (first, second)
    assert (verdict.count, verdict.enough) == (1, False)
    assert verdict.too_close == ((first, second),)
    overlapping = check_trips([first, trip(d(3, 3), 6)], RULES, YEAR_2023)
    assert (overlapping.count, overlapping.enough) == (1, False)
    # With no gap required, back-to-back trips are two (overlapping ones still one).
    loose = FieldVisitRules(trip_min_gap_days=0)
    assert check_trips([first, second], loose, YEAR_2023).count == 2
    assert check_trips([first, trip(d(5, 3), 5)], loose, YEAR_2023).count == 1


def test_the_most_well_spaced_trips_are_counted() -> None:
    # The middle trip is too close to both others, but those two are fine together.
    trips = [trip(d(1, 3), 5), trip(d(5, 3), 7), trip(d(12, 3), 5)]
    verdict = check_trips(trips, RULES, YEAR_2023)
    assert verdict.accepted == (trips[0], trips[2])
    assert verdict.enough
    assert len(verdict.too_close) == 2


def test_trips_outside_the_window_or_misshapen_are_not_counted() -> None:
    trips = [
        trip(d(28, 12, 2022), 6),  # belongs to 2022, the year it starts
        trip(d(28, 12), 6),  # runs into 2024 but belongs to 2023
        trip(d(1, 3), 3),
        trip(d(1, 4), 9),
        trip(d(1, 4), 5),
        trip(d(1, 4), 5),  # entered twice
    ]
    verdict = check_trips(trips, RULES, YEAR_2023)
    assert verdict.valid == (trip(d(1, 4), 5), trip(d(28, 12), 6))
    assert verdict.rejected == (
        (trip(d(1, 3), 3), (TripProblem.TOO_SHORT,)),
        (trip(d(1, 4), 9), (TripProblem.TOO_LONG,)),
    )
    assert verdict.count == 2


@given(st.lists(trips_st, max_size=7), rules_st)
def test_trips_validated(trips: list[Trip], rules: FieldVisitRules) -> None:
    window = (date(2022, 1, 1), date(2025, 12, 31))
    verdict = check_trips(trips, rules, window)
    for accepted in verdict.accepted:
        assert rules.trip_min_days <= accepted.length <= rules.trip_max_days
        assert accepted in trips
    for a, b in combinations(verdict.accepted, 2):
        assert gap_days(a, b) >= rules.trip_min_gap_days
    assert verdict.enough == (verdict.count >= rules.trips_required)
    # Nothing better exists: no larger set of valid trips is well spaced.
    best = max(
        (
            size
            for size in range(len(verdict.valid) + 1)
            for chosen in combinations(verdict.valid, size)
            if all(gap_days(a, b) >= rules.trip_min_gap_days for a, b in combinations(chosen, 2))
        ),
        default=0,
    )
    assert verdict.count == best
    for a, b in verdict.too_close:
        assert gap_days(a, b) < rules.trip_min_gap_days


# --- pace ----------------------------------------------------------------------------


def test_pace_mid_year() -> None:
    # 15/11 is day 319 of 365: 60 × 319 / 365 = 52.4, rounded down.
    standing = pace(45, RULES, YEAR_2023, d(15, 11))
    assert standing.expected_by_now == 52
    assert (standing.days_so_far, standing.days_needed, standing.behind_by) == (45, 15, 7)
    assert not standing.on_pace
    assert standing.days_left_in_window == 46  # 16/11 … 31/12
    assert standing.feasible
    assert pace(49, RULES, YEAR_2023, d(15, 11)).on_pace  # within 3 days
    assert not pace(0, RULES, YEAR_2023, d(20, 12)).feasible  # 60 days in 11


def test_pace_at_the_edges() -> None:
    assert pace(0, RULES, YEAR_2023, d(31, 12, 2022)).expected_by_now == 0
    end = pace(60, RULES, YEAR_2023, d(31, 12))
    assert (end.expected_by_now, end.days_left_in_window, end.on_pace) == (60, 0, True)
    reached = pace(75, RULES, YEAR_2023, d(31, 12))
    assert (reached.days_needed, reached.behind_by, reached.on_pace) == (0, 0, True)
    thirty = FieldVisitRules(target_days=30)
    assert pace(0, thirty, YEAR_2023, d(31, 12)).days_needed == 30


@given(rules_st, days_st, st.integers(0, 100), st.integers(0, 100))
def test_more_days_never_make_you_less_on_pace(
    rules: FieldVisitRules, on: date, fewer: int, extra: int
) -> None:
    window = counting_window(rules, on)
    low, high = pace(fewer, rules, window, on), pace(fewer + extra, rules, window, on)
    assert high.on_pace >= low.on_pace
    assert high.feasible >= low.feasible
    assert high.behind_by <= low.behind_by
    assert high.days_needed <= low.days_needed
    assert low.expected_by_now == high.expected_by_now <= rules.target_days
    assert low.days_needed >= 0 and low.behind_by >= 0


@given(rules_st, days_st, st.integers(0, 400), st.integers(0, 100))
def test_expectation_grows_through_the_year(
    rules: FieldVisitRules, on: date, later: int, counted: int
) -> None:
    window = counting_window(rules, on)
    then = on + timedelta(days=later)
    assert pace(counted, rules, window, then).expected_by_now >= (
        pace(counted, rules, window, on).expected_by_now
    )


# --- deadlines -----------------------------------------------------------------------


def test_report_deadline() -> None:
    done = trip(d(6, 3), 5)  # ends 10/3
    assert report_due(done, RULES) == d(20, 3)
    assert not overdue(done, None, RULES, d(20, 3))
    assert overdue(done, None, RULES, d(21, 3))
    assert not overdue(done, d(20, 3), RULES, d(1, 12))
    assert overdue(done, d(25, 3), RULES, d(1, 12))  # filed late stays late
    assert overdue(done, d(25, 3), RULES, d(22, 3))  # not filed by then either
    assert not overdue(done, None, FieldVisitRules(report_due_days=15), d(21, 3))


def test_late_entries_and_corrections() -> None:
    assert not needs_approval_late(d(1, 11), d(11, 11), RULES)  # 10 days later
    assert needs_approval_late(d(1, 11), d(12, 11), RULES)
    assert not needs_approval_late(d(1, 11), d(12, 11), FieldVisitRules(late_entry_days=30))
    assert may_correct(d(1, 11), d(8, 11), RULES)  # 7 days after logging
    assert not may_correct(d(1, 11), d(9, 11), RULES)
    assert may_correct(d(1, 11), d(1, 11), RULES)


# --- exemptions ----------------------------------------------------------------------


def test_exempt_on() -> None:
    illness = Exemption(ExemptionReason.SERIOUS_ILLNESS, d(1, 3), d(30, 6))
    clerk = Exemption(ExemptionReason.ACCOUNTING_OR_CLERICAL, d(1, 9))
    assert exempt_on([illness, clerk], d(28, 2)) is None
    assert exempt_on([illness, clerk], d(1, 3)) == illness
    assert exempt_on([illness, clerk], d(30, 6)) == illness
    assert exempt_on([illness, clerk], d(1, 7)) is None
    assert exempt_on([illness, clerk], d(31, 12, 2030)) == clerk  # open-ended
    assert exempt_on([], d(1, 7)) is None


def test_rules_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        FieldVisitRules(window_start_month=13)
    with pytest.raises(ValueError):
        FieldVisitRules(trip_min_days=8)
    with pytest.raises(ValueError):
        FieldVisitRules(target_days=-1)


# --- the summary for a report --------------------------------------------------------

AS_OF = d(15, 11)


def field_days(first: date, count: int) -> list[date]:
    """``count`` single days, every other day from ``first``."""
    return [first + timedelta(days=2 * n) for n in range(count)]


def a_cadre_who_went() -> tuple[list[date], list[Trip]]:
    """Two trips (6 + 7 days) and 50 single days before 15/11, some after it too."""
    trips = [trip(d(6, 3), 6), trip(d(5, 6), 7), trip(d(13, 11), 5)]  # the last: unfinished
    days = [*field_days(d(2, 7), 50), d(16, 11), d(20, 12), d(10, 3)]  # 10/3 is a trip day
    return days, trips


def test_a_cadre_who_went() -> None:
    days, trips = a_cadre_who_went()
    summary = summarise(days, trips, [], RULES, AS_OF)
    # 50 single days, 13 trip days, 13–15/11 of the unfinished trip.
    assert summary == CadreSummary(
        subject=True,
        exemption=None,
        went=True,
        reached_target=True,
        days=66,
        trips_done=2,
        trips_enough=True,
        on_pace=True,
    )
    assert summarise(days, trips, [], RULES, d(31, 12)).trips_done == 3


def test_a_cadre_counting_from_march() -> None:
    days, trips = a_cadre_who_went()
    march = FieldVisitRules(window_start_month=3, target_days=30)
    summary = summarise([*days, d(1, 2)], trips, [], march, AS_OF)
    assert summary.days == 66  # 1/2 belongs to the previous counting year
    assert summarise([d(1, 2)], [], [], march, d(28, 2)).days == 1


def test_domain_report_as_of_15_11_2023() -> None:
    """ "As of 15/11/2023, 17 … cadres subject to 1+2 went to the grassroots; 100% of them
    reached 60 days; 8 did not go (2 accounting/clerical, exempt; 2 over 20 years' service;
    …)". The published figures do not add up (17/24 went, 8 did not), so this roster has
    17 who went and 8 who did not."""
    days, trips = a_cadre_who_went()
    roster: list[tuple[list[date], list[Trip], list[Exemption]]] = [(days, trips, [])] * 17
    for reason in [
        ExemptionReason.ACCOUNTING_OR_CLERICAL,
        ExemptionReason.ACCOUNTING_OR_CLERICAL,
        ExemptionReason.LONG_SERVICE,
        ExemptionReason.LONG_SERVICE,
        ExemptionReason.SERIOUS_ILLNESS,
        ExemptionReason.PARTY_WORK,
    ]:
        roster.append(([], [], [Exemption(reason, d(1, 1, 2020))]))
    roster.append(([d(20, 11)], [], []))  # goes only after the report date
    roster.append(([d(20, 12, 2022)], [], []))  # went last year only

    summaries = [summarise(*cadre, RULES, AS_OF) for cadre in roster]
    went = [s for s in summaries if s.went]
    assert len(went) == 17 and all(s.subject for s in went)
    assert all(s.reached_target and s.trips_enough for s in went)
    did_not_go = [s for s in summaries if not s.went]
    assert len(did_not_go) == 8
    assert Counter(s.exemption for s in did_not_go) == {
        ExemptionReason.ACCOUNTING_OR_CLERICAL: 2,
        ExemptionReason.LONG_SERVICE: 2,
        ExemptionReason.SERIOUS_ILLNESS: 1,
        ExemptionReason.PARTY_WORK: 1,
        None: 2,
    }
    assert sum(s.subject for s in summaries) == 19
    assert not any(s.on_pace for s in did_not_go if s.subject)


def test_an_exempt_cadre_who_still_goes() -> None:
    days, trips = a_cadre_who_went()
    exemption = Exemption(ExemptionReason.LONG_SERVICE, d(1, 1))
    summary = summarise(days, trips, [exemption], RULES, AS_OF)
    assert (summary.subject, summary.exemption, summary.days) == (
        False,
        ExemptionReason.LONG_SERVICE,
        66,
    )


@given(
    st.lists(days_st, max_size=40),
    st.lists(trips_st, max_size=5),
    st.lists(st.integers(1, 400), max_size=20),
    st.lists(st.tuples(st.integers(1, 400), st.integers(1, 10)), max_size=4),
    rules_st,
    days_st,
)
def test_the_summary_as_of_a_day_ignores_later_days(
    days: list[date],
    trips: list[Trip],
    later_days: list[int],
    later_trips: list[tuple[int, int]],
    rules: FieldVisitRules,
    on: date,
) -> None:
    summary = summarise(days, trips, [], rules, on)
    more_days = [*days, *(on + timedelta(days=n) for n in later_days)]
    more_trips = [*trips, *(trip(on + timedelta(days=n), size) for n, size in later_trips)]
    assert summarise(more_days, more_trips, [], rules, on) == summary
    # And the days are the distinct days of the counting year so far.
    first = counting_window(rules, on)[0]
    seen = {day for day in [*days, *(x for t in trips for x in t.days())] if first <= day <= on}
    assert summary.days == len(seen)
    assert summary.went == bool(seen)
    assert summary.reached_target == (len(seen) >= rules.target_days)
