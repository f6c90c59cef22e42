""" "1+2" jobs: the quarter's plan asked for, a monthly nudge when behind, trip report reminders.

Run by the leader only. Each job decides in one transaction and writes outbox rows
with dedupe keys (per cadre and quarter, per cadre and month, per trip and stage),
so a repeated tick, a restart or a new leader after a failover sends nothing twice.
Messages wait for the end of the quiet hours of the cadre's unit. Only cadres on
the register and not exempt that day are asked or nudged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.formatting import format_date
from bot.i18n import N_
from handlers.fieldvisits.rules import rules_for
from handlers.fieldvisits.status import exemption_on, quarter_of, quarter_window
from handlers.notify import notify
from scheduler.field_visits import (
    FieldVisitRules,
    Trip,
    count_days,
    counting_window,
    pace,
    report_due,
)
from scheduler.notices import already_told, daytime, send_time
from storage.db import Database
from storage.models import Person, PersonStatus, Unit
from storage.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)
QUARTER_MONTHS = (1, 4, 7, 10)
# The first days of a quarter or month, not only the first: a bot that was down on
# the 1st still asks. Both stay well under the outbox retention (7 days), whose rows
# tell who was already asked.
PLAN_REQUEST_DAYS = 5
NUDGE_DAYS = 3
REPORT_SOON_DAYS = 3  # remind this many days before a trip report is due
REPORT_HORIZON_DAYS = 60  # trips that ended longer ago are not reminded about


@dataclass(frozen=True, slots=True)
class Subject:
    person: Person
    unit: Unit
    rules: FieldVisitRules

    @property
    def person_id(self) -> int:
        assert self.person.id is not None
        return self.person.id


async def subjects(uow: UnitOfWork, today: date) -> list[Subject]:
    """Cadres on the register, not exempt ``today``, with their province's rules."""
    rows = await uow.plans.active_cadres()
    exemptions = await uow.plans.exemptions([cadre.person_id for cadre, _, _ in rows])
    rules: dict[int, FieldVisitRules] = {}
    found = []
    for cadre, person, unit in rows:
        if exemption_on(exemptions.get(cadre.person_id, []), today) is not None:
            continue
        if cadre.unit_id not in rules:
            rules[cadre.unit_id] = await rules_for(uow, unit)
        found.append(Subject(person, unit, rules[cadre.unit_id]))
    return found


async def request_quarterly_plans(db: Database, settings: Settings, clock: Clock) -> int:
    """In the first days of a quarter, ask each cadre without a plan for one."""
    now = clock()
    local = daytime(now, settings)
    if local is None or local.month not in QUARTER_MONTHS or local.day > PLAN_REQUEST_DAYS:
        return 0
    today = local.date()
    year, quarter = quarter_of(today)
    first, last = quarter_window(year, quarter)
    tag = f"fplan:ask:{year}-q{quarter}:"
    sent = 0
    async with unit_of_work(db) as uow:
        todo = await subjects(uow, today)
        told = await already_told(uow, tag)
        planned = await uow.plans.plans([s.person_id for s in todo], year, quarter)
        for subject in todo:
            if subject.person_id in told or subject.person_id in planned:
                continue
            sent += await notify(
                uow,
                subject.person,
                N_("fplan.request_plan"),
                now=now,
                category="reminder",
                dedupe_key=f"{tag}{subject.person_id}",
                not_before=send_time(subject.unit, settings, now),
                choices=[("!plan", N_("fplan.register_plan"))],
                hint_key=N_("fplan.plan_hint"),
                quarter=quarter,
                year=year,
                first=format_date(first, settings.tz),
                last=format_date(last, settings.tz),
            )
        await uow.commit()
    if sent:
        log.info("asked for %d quarterly visit plans", sent)
    return sent


async def nudge_behind_pace(db: Database, settings: Settings, clock: Clock) -> int:
    """Once a month, tell each cadre who is behind pace how far, and how much time is left.

    Nobody on pace, exempt or muted hears anything: a nudge nobody needs is noise.
    """
    now = clock()
    local = daytime(now, settings)
    if local is None or local.day > NUDGE_DAYS:
        return 0
    today = local.date()
    tag = f"fplan:nudge:{today:%Y-%m}:"
    sent = 0
    async with unit_of_work(db) as uow:
        told = await already_told(uow, tag)
        todo = [
            s
            for s in await subjects(uow, today)
            if s.person_id not in told and not s.person.mute_reminders
        ]
        by_window: dict[tuple[date, date], list[Subject]] = {}
        for subject in todo:
            by_window.setdefault(counting_window(subject.rules, today), []).append(subject)
        for window, group in by_window.items():
            days = await uow.visits.days_by_person([s.person_id for s in group], window[0], today)
            for subject in group:
                counted = count_days(days.get(subject.person_id, []), (window[0], today))
                standing = pace(counted, subject.rules, window, today)
                if standing.on_pace:
                    continue
                sent += await notify(
                    uow,
                    subject.person,
                    N_("fplan.nudge"),
                    now=now,
                    category="nudge",
                    dedupe_key=f"{tag}{subject.person_id}",
                    not_before=send_time(subject.unit, settings, now),
                    days=standing.days_so_far,
                    target=subject.rules.target_days,
                    expected=standing.expected_by_now,
                    needed=standing.days_needed,
                    left=standing.days_left_in_window,
                    last=format_date(window[1], settings.tz),
                )
        await uow.commit()
    if sent:
        log.info("nudged %d cadres behind pace", sent)
    return sent


async def remind_trip_reports(db: Database, settings: Settings, clock: Clock) -> int:
    """Remind a cadre of a trip report due soon, and once when overdue; then stop.

    The stages done are kept on the trip (``reminders_done``); a filed report takes
    the trip out of the query, so nothing more is sent once it is in.
    """
    now = clock()
    today = now.astimezone(settings.tz).date()
    sent = 0
    async with unit_of_work(db) as uow:
        trips = await uow.visits.trips_awaiting_report(
            ended_since=today - timedelta(days=REPORT_HORIZON_DAYS), ended_by=today
        )
        rules: dict[int, tuple[Unit | None, FieldVisitRules]] = {}
        for trip in trips:
            assert trip.ends_on is not None and trip.id is not None
            if trip.person_id not in rules:
                rules[trip.person_id] = await _cadre_rules(uow, trip.person_id)
            unit, own = rules[trip.person_id]
            due = report_due(Trip(trip.starts_on, trip.ends_on), own)
            stage = (
                "overdue"
                if today > due
                else "due"
                if (due - today).days <= REPORT_SOON_DAYS
                else None
            )
            if stage is None or stage in trip.reminders_done:
                continue
            # After a long downtime both stages may be due: one reminder, the overdue one.
            trip.reminders_done = sorted({*trip.reminders_done, "due", stage})
            uow.session.add(trip)
            person = await uow.people.get(trip.person_id)
            if person is None or person.status != PersonStatus.ACTIVE:
                continue
            sent += await notify(
                uow,
                person,
                N_("fplan.report_overdue") if stage == "overdue" else N_("fplan.report_due"),
                now=now,
                category="reminder",
                dedupe_key=f"fplan:trip:{trip.id}:{stage}",
                not_before=send_time(unit, settings, now),
                theme=trip.theme,
                first=format_date(trip.starts_on, settings.tz),
                last=format_date(trip.ends_on, settings.tz),
                due=format_date(due, settings.tz),
                left=max(0, (due - today).days),
            )
        await uow.commit()
    return sent


async def _cadre_rules(uow: UnitOfWork, person_id: int) -> tuple[Unit | None, FieldVisitRules]:
    """The cadre's unit on the register and its province's rules (defaults if not listed)."""
    cadre = await uow.plans.cadre(person_id)
    unit = await uow.units.get(cadre.unit_id) if cadre is not None else None
    return unit, await rules_for(uow, unit) if unit is not None else FieldVisitRules()
