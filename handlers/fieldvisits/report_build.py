"""The committee's "1+2" report, built from the rows ``storage.visit_report`` reads. Pure.

The shape the unions already use: "as of 15/11/2023, 17/24 cadres subject to 1+2 went
to the grassroots; 100% of them reached 60 days; 7 did not go (2 accounting/clerical,
exempt; 2 over 20 years' service, exempt; 3 without an exemption)". So that the
numbers add up (all = went + exempt + not going), a cadre exempt on the day is counted
as exempt only, even if they went: every figure measured against the target (went,
reached, enough trips, behind pace) is over the cadres not exempt. Facts (days, trips,
late trip reports) are listed for everyone.

Days are the distinct calendar days of entries with status "counted", in the counting
year up to the "as of" day; trips are judged by ``check_trips`` once ended by then.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple
from zoneinfo import ZoneInfo

from scheduler.field_visits import (
    CadreSummary,
    Exemption,
    ExemptionReason,
    FieldVisitRules,
    Pace,
    Trip,
    Window,
    check_trips,
    counting_window,
    overdue,
    pace,
    report_due,
    summarise,
)
from storage.visit_report import CadreRow, DayRow, ExemptionRow, ReportRows, TripRow


class DayLine(NamedTuple):
    """One counted day of a cadre; a day logged twice lists both entries' details."""

    day: date
    units: tuple[str, ...]
    kinds: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LateReport:
    """A trip whose report was not filed by its deadline, as of the report's day."""

    person_id: int
    name: str
    theme: str
    ended_on: date
    due: date
    filed_on: date | None  # filed late, or None if still missing


@dataclass(frozen=True, slots=True)
class CadreLine:
    """One cadre's line: where they work, their standing, and (for the file) their days."""

    person_id: int
    name: str
    unit_code: str
    unit_name: str
    summary: CadreSummary
    exemption_note: str | None
    pace: Pace
    late_reports: int
    days: tuple[DayLine, ...]

    @property
    def measured(self) -> bool:
        """Counted against the target (not exempt on the day)."""
        return self.summary.subject


@dataclass(frozen=True)
class VisitReport:
    """The report of a unit's subtree as of a day; the figures are derived from the lines."""

    unit_code: str
    unit_name: str
    as_of: date
    window: Window
    rules: FieldVisitRules
    cadres: tuple[CadreLine, ...]
    late_reports: tuple[LateReport, ...]
    exempt_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Every cadre of the subtree in "1+2" (exempt or not)."""
        return len(self.cadres)

    @property
    def measured(self) -> list[CadreLine]:
        return [c for c in self.cadres if c.measured]

    @property
    def exempt(self) -> int:
        return self.total - len(self.measured)

    @property
    def went(self) -> int:
        return sum(1 for c in self.measured if c.summary.went)

    @property
    def reached(self) -> int:
        return sum(1 for c in self.measured if c.summary.reached_target)

    @property
    def not_going(self) -> int:
        """Not exempt, and not a single day counted."""
        return len(self.measured) - self.went

    @property
    def did_not_go(self) -> int:
        return self.exempt + self.not_going

    @property
    def trips_done(self) -> int:
        return sum(c.summary.trips_done for c in self.cadres)

    @property
    def enough_trips(self) -> int:
        return sum(1 for c in self.measured if c.summary.trips_enough)

    def behind(self) -> list[CadreLine]:
        """Cadres not keeping pace with the target, furthest behind first."""
        late = [c for c in self.measured if not c.summary.on_pace]
        return sorted(late, key=lambda c: (-c.pace.behind_by, c.name))


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole``; None when there is no whole to speak of."""
    return part / whole if whole else None


def _with(values: tuple[str, ...], value: str | None) -> tuple[str, ...]:
    return values if not value or value in values else (*values, value)


def _day_lines(entries: Sequence[DayRow]) -> tuple[DayLine, ...]:
    """One line per day, from entries in day order (a day logged twice: side by side)."""
    lines: list[DayLine] = []
    for row in entries:
        note = (row.note or "").strip()
        if lines and lines[-1].day == row.day:
            last = lines[-1]
            lines[-1] = DayLine(
                row.day,
                _with(last.units, row.unit_name),
                _with(last.kinds, row.kind),
                _with(last.notes, note),
            )
        else:
            lines.append(DayLine(row.day, _with((), row.unit_name), (row.kind,), _with((), note)))
    return tuple(lines)


def _exemptions(rows: Iterable[ExemptionRow]) -> list[tuple[Exemption, str | None]]:
    found = []
    for row in rows:
        try:
            reason = ExemptionReason(row.reason)
        except ValueError:  # a reason this version does not know: still an exemption
            reason = ExemptionReason.OTHER
        found.append((Exemption(reason, row.starts_on, row.ends_on), row.note))
    return found


def _late(
    cadre: CadreRow,
    trips: Iterable[TripRow],
    rules: FieldVisitRules,
    window: Window,
    on: date,
    tz: ZoneInfo,
) -> list[LateReport]:
    """Trip reports overdue on ``on`` whose due day falls in this counting year."""
    late = []
    for row in trips:
        if row.ends_on is None or row.ends_on > on:
            continue
        filed = row.report_filed_at.astimezone(tz).date() if row.report_filed_at else None
        trip = Trip(row.starts_on, row.ends_on)
        if report_due(trip, rules) >= window[0] and overdue(trip, filed, rules, on):
            shown = filed if filed is not None and filed <= on else None
            late.append(
                LateReport(
                    cadre.person_id,
                    cadre.name or "—",
                    row.theme,
                    row.ends_on,
                    report_due(trip, rules),
                    shown,
                )
            )
    return late


@dataclass
class _Own:
    """One cadre's rows."""

    days: list[date] = field(default_factory=list)
    entries: list[DayRow] = field(default_factory=list)
    exemptions: list[ExemptionRow] = field(default_factory=list)
    trips: list[TripRow] = field(default_factory=list)


def _by_cadre(rows: ReportRows) -> dict[int, _Own]:
    own: dict[int, _Own] = {
        c.person_id: _Own(days=rows.days.get(c.person_id, [])) for c in rows.cadres
    }
    for entry in rows.entries or ():
        if entry.person_id in own:
            own[entry.person_id].entries.append(entry)
    for exemption in rows.exemptions:
        if exemption.person_id in own:
            own[exemption.person_id].exemptions.append(exemption)
    for trip in rows.trips:
        if trip.person_id in own:
            own[trip.person_id].trips.append(trip)
    return own


def _cadre(
    cadre: CadreRow, own: _Own, rules: FieldVisitRules, window: Window, on: date, tz: ZoneInfo
) -> tuple[CadreLine, list[LateReport]]:
    known = _exemptions(own.exemptions)
    # Trip days count only as the counted entries logged for them: passing no trips
    # here keeps a trip whose days were refused, or not yet approved, out of the count.
    summary = summarise(own.days, [], [e for e, _ in known], rules, on)
    ended = [Trip(t.starts_on, t.ends_on) for t in own.trips if t.ends_on and t.ends_on <= on]
    verdict = check_trips(ended, rules, window)
    summary = replace(summary, trips_done=verdict.count, trips_enough=verdict.enough)
    late = _late(cadre, own.trips, rules, window, on, tz)
    line = CadreLine(
        person_id=cadre.person_id,
        name=cadre.name or "—",
        unit_code=cadre.unit_code,
        unit_name=cadre.unit_name,
        summary=summary,
        exemption_note=next((n for e, n in known if e.reason == summary.exemption), None),
        pace=pace(summary.days, rules, window, on),
        late_reports=len(late),
        days=_day_lines(own.entries),
    )
    return line, late


def build_report(
    unit_code: str,
    unit_name: str,
    rows: ReportRows,
    rules: FieldVisitRules,
    as_of: date,
    tz: ZoneInfo,
) -> VisitReport:
    """The report of a subtree as of ``as_of`` (a local date), from its rows.

    Each cadre's days are listed (``CadreLine.days``) only when ``rows`` has the
    entries (``load_report_rows(..., entries=True)``).
    """
    window = counting_window(rules, as_of)
    own = _by_cadre(rows)
    lines, late = [], []
    for cadre in rows.cadres:
        line, lates = _cadre(cadre, own[cadre.person_id], rules, window, as_of, tz)
        lines.append(line)
        late += lates
    reasons = Counter(str(c.summary.exemption) for c in lines if c.summary.exemption)
    return VisitReport(
        unit_code=unit_code,
        unit_name=unit_name,
        as_of=as_of,
        window=window,
        rules=rules,
        cadres=tuple(lines),
        late_reports=tuple(sorted(late, key=lambda r: (r.due, r.name))),
        exempt_by_reason=reasons,
    )
