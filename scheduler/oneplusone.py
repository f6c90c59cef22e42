""" "1+1" jobs: a monthly reminder to members behind their target, and lapsed referral links.

Run by the leader only. Each job decides in one transaction and writes outbox rows with
dedupe keys (per member and month, per recruit), so a repeated tick, a restart or a
second process sends nothing twice. Messages wait for the end of the quiet hours of the
member's branch.

The reminder goes to a whole province (~20,000 members) on one day, so it is found with
a few set-based queries (the units that set their own "1+1" numbers, the members not
told yet, their accounts, their recruits' tallies, their branches) and written with bulk
INSERTs, each text rendered once per language and standing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, case, cast, func
from sqlmodel import col, select

from bot.clock import Clock
from bot.config import Settings
from bot.formatting import format_date
from bot.i18n import N_, Translator
from bot.messages import Channel
from handlers.notify import message, notify
from handlers.oneplusone.rules import behind, member_progress, reminder_due
from handlers.oneplusone.targets import SETTING as TARGET_SETTING
from scheduler.notices import daytime, send_time
from storage.db import Database
from storage.models import (
    ChannelIdentity,
    Membership,
    OutboxMessage,
    Person,
    PersonStatus,
    Recruit,
    Unit,
)
from storage.outbox import BULK, pending_row
from storage.recruits import awaiting_secretary, branch_member, counted
from storage.uow import UnitOfWork, unit_of_work
from storage.upsert import insert_ignore_many

log = logging.getLogger(__name__)

#: A unit (and what lies under it) may remind on its own day of the month.
DAY_SETTING = "oneplusone_reminder_day"
#: The latest reminder day: with its two days' grace it still falls in February.
LAST_DAY = 26
#: A member who joined the bot less than this long ago is not reminded yet.
NEW_MEMBER_DAYS = 14
#: Lapsed links handled per transaction; a tick goes on until none is left.
LAPSE_BATCH = 500
#: Members are asked whether a young person came in the first days after the activity.
AFTER_ACTIVITY_DAYS = 3
AFTER_TAG = "r11:after:"
NUDGE_CHOICES = (("!r11new", N_("r11.nudge_record")), ("!r11mine", N_("r11.nudge_progress")))


@dataclass(slots=True)
class Member:
    """A member who may be reminded: their branches, reachable accounts and tally."""

    person_id: int
    locale: str
    branches: set[int] = field(default_factory=set)
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (channel, chat_id)
    counted: int = 0
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class Overrides:
    """The units that set their own "1+1" numbers (few): unit id -> value."""

    targets: dict[int, int]
    days: dict[int, int]

    def target(self, unit: Unit, default: int) -> int:
        """Per member, from the nearest unit up the tree (as ``per_member_target``)."""
        return max(1, _nearest(unit, self.targets, default))

    def day(self, unit: Unit, default: int) -> int:
        return _day(_nearest(unit, self.days, default))

    def any_day_due(self, today: date, default: int) -> bool:
        """Whether some unit (or the default) reminds ``today``: else the job is done."""
        return any(reminder_due(today, _day(day)) for day in {default, *self.days.values()})


def _day(value: int) -> int:
    return min(max(1, value), LAST_DAY)


def _nearest(unit: Unit, values: dict[int, int], default: int) -> int:
    for unit_id in reversed(unit.path.strip("/").split("/")):
        if unit_id and int(unit_id) in values:
            return values[int(unit_id)]
    return default


async def overrides(uow: UnitOfWork) -> Overrides:
    """Units whose settings name a "1+1" number: the text filter lets the database skip
    the others, the JSON is read only for the few that match."""
    result = await uow.session.exec(
        select(Unit.id, Unit.settings).where(
            cast(Unit.settings, String).contains("oneplusone_", autoescape=True)
        )
    )
    found = Overrides({}, {})
    for unit_id, own in result.all():
        for name, into in ((TARGET_SETTING, found.targets), (DAY_SETTING, found.days)):
            try:
                if unit_id is not None and own.get(name) is not None:
                    into[unit_id] = int(own[name])
            except (TypeError, ValueError):
                log.warning("unit %s: %s=%r is not a number", unit_id, name, own[name])
    return found


async def candidates(
    uow: UnitOfWork, tag: str, year: int, *, joined_by: datetime, below: int
) -> tuple[list[Member], list[Unit]]:
    """Members who may be behind in ``year``, with their reachable accounts, the year's
    tally and their branches.

    That is active, unmuted members of a branch, not told under ``tag`` yet, reachable,
    with the bot since ``joined_by`` at least, and with fewer than ``below`` recruits
    counted (the highest target anywhere): all decided in the database, so a tick after
    everybody was told reads next to nothing.
    """
    member = col(Membership.person_id)
    told = select(OutboxMessage.id).where(
        col(OutboxMessage.person_id) == member, col(OutboxMessage.dedupe_key).startswith(tag)
    )
    reachable = select(ChannelIdentity.id).where(
        col(ChannelIdentity.person_id) == member, col(ChannelIdentity.reachable).is_(True)
    )
    settled = select(ChannelIdentity.id).where(
        col(ChannelIdentity.person_id) == member, col(ChannelIdentity.created_at) <= joined_by
    )
    done = (
        select(func.count())
        .select_from(Recruit)
        .where(col(Recruit.member_id) == member, Recruit.year == year, counted())
        .scalar_subquery()
    )
    on_person = col(Person.id) == member
    where = (
        branch_member(),
        col(Person.status) == PersonStatus.ACTIVE,
        col(Person.mute_reminders).is_(False),
        ~told.exists(),
        reachable.exists(),
        settled.exists(),
        done < below,
    )
    rows = await uow.session.exec(
        select(Membership.person_id, Membership.unit_id, Person.locale)
        .join(Person, on_person)
        .where(*where)
    )
    members: dict[int, Member] = {}
    for person_id, unit_id, locale in rows.all():
        members.setdefault(person_id, Member(person_id, locale)).branches.add(unit_id)
    if not members:
        return [], []
    ids = select(Membership.person_id).join(Person, on_person).where(*where)
    accounts = await uow.session.exec(
        select(ChannelIdentity.person_id, ChannelIdentity.channel, ChannelIdentity.chat_id)
        .where(col(ChannelIdentity.person_id).in_(ids), col(ChannelIdentity.reachable).is_(True))
        .order_by(col(ChannelIdentity.id))
    )
    for person_id, channel, chat_id in accounts.all():
        if person_id in members:
            members[person_id].accounts.append((channel, chat_id))
    tallies = await uow.session.exec(
        select(
            Recruit.member_id,
            func.sum(case((counted(), 1), else_=0)),
            func.sum(case((awaiting_secretary(), 1), else_=0)),
        )
        .where(Recruit.year == year, col(Recruit.member_id).in_(ids))
        .group_by(col(Recruit.member_id))
    )
    for member_id, done_count, pending in tallies.all():
        if member_id in members:
            members[member_id].counted = int(done_count)
            members[member_id].waiting = int(pending)
    branches = await uow.session.exec(
        select(Unit).where(
            col(Unit.id).in_(select(Membership.unit_id).join(Person, on_person).where(*where))
        )
    )
    return list(members.values()), list(branches.all())


async def remind_behind_members(db: Database, settings: Settings, clock: Clock) -> int:
    """Once a month, remind each member who has not reached this year's target where they
    stand; nobody who reached it hears anything, so the reminders stop there.

    The day is ``oneplusone_reminder_day`` (the nearest unit's own, or the default) or
    one of the two after it, if the bot was down; not before 08:00. A member of several
    branches gets one reminder, against the highest target among them, on the day and
    after the quiet hours of that branch. Members new to the bot (under
    ``NEW_MEMBER_DAYS``) and muted ones are left alone.
    """
    now = clock()
    local = daytime(now, settings)
    if local is None:
        return 0
    today = local.date()
    default_day = settings.oneplusone_reminder_day
    async with unit_of_work(db) as uow:
        own = await overrides(uow)
        if not own.any_day_due(today, default_day):
            return 0
        tag = f"r11:nudge:{today:%Y-%m}:"
        default_target = settings.oneplusone_target
        members, branches = await candidates(
            uow,
            tag,
            today.year,
            joined_by=now - timedelta(days=NEW_MEMBER_DAYS),
            below=max([default_target, *own.targets.values()]),
        )
        by_id = {unit.id: unit for unit in branches}
        targets = {u.id: own.target(u, default_target) for u in branches}
        home: dict[int, Unit] = {}
        standing = []
        for member in members:
            known = [b for b in member.branches if b in by_id]  # not one added meanwhile
            if not known:
                continue
            # The branch asking the most of them: its target, its day, its quiet hours.
            unit = by_id[max(known, key=lambda b: (targets[b], -b))]
            assert unit.id is not None
            if not reminder_due(today, own.day(unit, default_day)):
                continue
            home[member.person_id] = unit
            standing.append((member, member_progress(member.counted, targets[unit.id])))
        due = set(behind((m.person_id, p) for m, p in standing))
        rows = _nudges(
            [(m, p.counted, p.target) for m, p in standing if m.person_id in due],
            home,
            tag=tag,
            today=today,
            now=now,
            settings=settings,
        )
        added = await insert_ignore_many(uow.session, OutboxMessage, rows, ["dedupe_key"])
        await uow.commit()
    if added:
        log.info("reminded %d accounts of members behind their 1+1 target", added)
    return added


def _nudges(
    todo: Sequence[tuple[Member, int, int]],
    home: dict[int, Unit],
    *,
    tag: str,
    today: date,
    now: datetime,
    settings: Settings,
) -> list[dict[str, Any]]:
    """One outbox row per reachable account; each distinct text rendered once."""
    payloads: dict[tuple[str, int, int, int], dict[str, Any]] = {}
    send_at: dict[int, datetime] = {}
    rows = []
    for member, done, target in todo:
        unit = home[member.person_id]
        assert unit.id is not None
        if unit.id not in send_at:
            send_at[unit.id] = send_time(unit, settings, now)
        key = (member.locale, done, target, member.waiting)
        if key not in payloads:
            payloads[key] = message(
                Translator(member.locale),
                N_("r11.nudge"),
                choices=NUDGE_CHOICES,
                hint_key=N_("r11.nudge_hint"),
                counted=done,
                target=target,
                year=today.year,
                waiting=member.waiting,
                months_left=13 - today.month,  # this month included
            ).to_json()
        for channel, chat_id in member.accounts:
            rows.append(
                pending_row(
                    channel,
                    {**payloads[key], "chat_id": chat_id},
                    now=now,
                    priority=BULK,
                    dedupe_key=f"{tag}{member.person_id}:{channel}",
                    not_before=send_at[unit.id],
                    category="nudge",
                    person_id=member.person_id,
                )
            )
    return rows


async def lapse_referrals(db: Database, settings: Settings, clock: Clock) -> int:
    """Referral links that ran out unanswered: what the member typed about the young person
    is wiped (a count stays), and the member is told once which record it was.

    The notice goes to muted members too: it is about their own record, not a nudge.
    """
    now = clock()
    told = 0
    while True:
        async with unit_of_work(db) as uow:
            lapsed = await uow.recruits.lapse_expired(now, limit=LAPSE_BATCH)
            told += await _tell_lapsed(uow, lapsed, settings, now)
            await uow.commit()
        if len(lapsed) < LAPSE_BATCH:
            break
    if told:
        log.info("told members of %d lapsed referral links", told)
    return told


async def _tell_lapsed(
    uow: UnitOfWork,
    lapsed: Sequence[tuple[Recruit, str | None]],
    settings: Settings,
    now: datetime,
) -> int:
    ids = {recruit.member_id for recruit, _ in lapsed if recruit.member_id is not None}
    if not ids:
        return 0
    found = await uow.session.exec(select(Person).where(col(Person.id).in_(ids)))
    people = {person.id: person for person in found.all()}
    sent = 0
    for recruit, name in lapsed:
        person = people.get(recruit.member_id)
        if person is None or person.status != PersonStatus.ACTIVE:
            continue
        t = Translator(person.locale)
        sent += await notify(
            uow,
            person,
            N_("r11.lapsed"),
            now=now,
            category="reminder",
            dedupe_key=f"r11:lapsed:{recruit.id}",
            not_before=send_time(await uow.units.get(recruit.unit_id), settings, now),
            choices=[NUDGE_CHOICES[1]],
            hint_key=N_("r11.nudge_hint"),
            name=name or t(N_("r11.lapsed_someone")),
            activity=recruit.activity or t(N_("r11.lapsed_an_activity")),
            date=format_date(recruit.activity_on, settings.tz),
        )
    return sent


async def ask_after_activities(db: Database, settings: Settings, clock: Clock) -> int:
    """The days after an activity a member said a young person would come to, ask the
    member once whether they came: one tap moves the record on.

    Only records still at "contacted" whose activity was one to ``AFTER_ACTIVITY_DAYS``
    days ago; in daytime, after the branch's quiet hours; not to muted members.
    """
    now = clock()
    local = daytime(now, settings)
    if local is None:
        return 0
    today = local.date()
    sent = 0
    async with unit_of_work(db) as uow:
        todo = await uow.recruits.contacted_between(
            today - timedelta(days=AFTER_ACTIVITY_DAYS), today - timedelta(days=1)
        )
        asked = await _asked_after(uow, [r.id for r in todo if r.id is not None])
        units: dict[int, Unit | None] = {}
        for recruit in todo:
            if recruit.id in asked or recruit.member_id is None:
                continue
            person = await uow.people.get(recruit.member_id)
            if person is None or person.status != PersonStatus.ACTIVE or person.mute_reminders:
                continue
            if recruit.unit_id not in units:
                units[recruit.unit_id] = await uow.units.get(recruit.unit_id)
            t = Translator(person.locale)
            sent += await notify(
                uow,
                person,
                N_("r11.after_activity"),
                now=now,
                category="reminder",
                dedupe_key=f"{AFTER_TAG}{recruit.id}",
                not_before=send_time(units[recruit.unit_id], settings, now),
                choices=[(f"!r11came:{recruit.id}", N_("r11.after_came")), NUDGE_CHOICES[1]],
                hint_key=N_("r11.after_hint"),
                name=recruit.name or t(N_("r11.lapsed_someone")),
                activity=recruit.activity or t(N_("r11.lapsed_an_activity")),
                date=format_date(recruit.activity_on, settings.tz),
            )
        await uow.commit()
    if sent:
        log.info("asked members about %d young people after their activity", sent)
    return sent


async def _asked_after(uow: UnitOfWork, recruit_ids: Sequence[int]) -> set[int]:
    """The records whose member was already asked (their outbox rows say so)."""
    if not recruit_ids:
        return set()
    keys = {f"{AFTER_TAG}{rid}:{channel.value}": rid for rid in recruit_ids for channel in Channel}
    found = await uow.session.exec(
        select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(list(keys)))
    )
    return {keys[key] for key in found.all() if key in keys}
