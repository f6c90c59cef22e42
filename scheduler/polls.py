"""Poll jobs: send a poll out when it opens, nudge those who have not answered, close it.

Run by the leader only. Each decision and its outbox rows are one transaction, and
every row has a dedupe key, so a restart, a repeated tick or a new leader after a
failover sends nothing twice. A province-wide poll is fanned out with one INSERT …
SELECT for the recipients and a few multi-row INSERTs for the messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.formatting import format_datetime
from bot.i18n import N_, Translator
from bot.messages import Choice, Outgoing
from handlers.notify import notify
from handlers.polls.answer import PRIVACY_NOTES
from handlers.polls.digest import closing_summary
from scheduler.quiet import next_allowed
from storage.db import Database
from storage.models import OutboxMessage, Poll, PollStatus, Unit
from storage.outbox import BULK, pending_row
from storage.polls import Addressee
from storage.uow import UnitOfWork, unit_of_work
from storage.upsert import insert_ignore_many

log = logging.getLogger(__name__)


def _quiet(unit: Unit, settings: Settings) -> tuple[str, str]:
    return (
        unit.settings.get("quiet_start", settings.quiet_start),
        unit.settings.get("quiet_end", settings.quiet_end),
    )


def nudge_times(poll: Poll, stages: list[str]) -> list[tuple[str, datetime]]:
    """When each nudge is due: "50%" of the way from opening to deadline, "24h" before it."""
    span = poll.closes_at - poll.opens_at
    found = []
    for stage in stages:
        text = stage.strip().lower()
        if text.endswith("%"):
            found.append((text, poll.opens_at + span * (float(text[:-1]) / 100)))
        elif text.endswith("h"):
            found.append((text, poll.closes_at - timedelta(hours=float(text[:-1]))))
    return sorted(found, key=lambda item: item[1])


def invitation(poll: Poll, key: str, settings: Settings) -> Callable[[Translator], Outgoing]:
    """The poll announced (or a nudge), with "Trả lời ngay", in one person's language."""

    def render(t: Translator) -> Outgoing:
        return Outgoing(
            kind="send",
            chat_id="",
            text=t(
                key,
                title=poll.title,
                until=format_datetime(poll.closes_at, settings.tz),
                privacy=t(PRIVACY_NOTES[poll.anonymous]),
            ),
            choices=[Choice(f"!poll:{poll.id}", t("polls.answer_now"))],
            hint=t("polls.answer_hint"),
        )

    return render


async def queue_bulk(
    uow: UnitOfWork,
    poll: Poll,
    addressees: list[Addressee],
    render: Callable[[Translator], Outgoing],
    *,
    tag: str,
    now: datetime,
    send_at: datetime,
    category: str,
) -> int:
    """One message per reachable account, rendered once per language, in a few INSERTs."""
    assert poll.id is not None
    payloads: dict[str, dict[str, Any]] = {}
    rows = []
    for who in addressees:
        if who.locale not in payloads:
            payloads[who.locale] = render(Translator(who.locale)).to_json()
        rows.append(
            pending_row(
                who.channel,
                {**payloads[who.locale], "chat_id": who.chat_id},
                now=now,
                priority=BULK,
                dedupe_key=f"poll:{poll.id}:{tag}:{who.person_id}:{who.channel}",
                not_before=send_at,
                category=category,
                person_id=who.person_id,
            )
        )
    return await insert_ignore_many(uow.session, OutboxMessage, rows, ["dedupe_key"])


async def open_poll(uow: UnitOfWork, poll: Poll, settings: Settings, now: datetime) -> int:
    """Mark the poll open, record who is asked, and queue the invitations (after quiet hours)."""
    unit = await uow.units.get(poll.unit_id)
    assert unit is not None and poll.id is not None
    poll.status, poll.opened_at = PollStatus.OPEN, now
    uow.session.add(poll)
    await uow.polls.add_recipients(poll)
    addressees = await uow.polls.addressees(poll.id, only_unanswered=False)
    send_at = next_allowed(now, settings.tz, *_quiet(unit, settings))
    return await queue_bulk(
        uow,
        poll,
        addressees,
        invitation(poll, N_("polls.invitation"), settings),
        tag="invite",
        now=now,
        send_at=send_at,
        category="broadcast",
    )


async def open_due_polls(db: Database, settings: Settings, clock: Clock) -> int:
    queued = 0
    async with unit_of_work(db) as uow:
        due = [p.id for p in await uow.polls.due_to_open(clock()) if p.id is not None]
    for poll_id in due:  # one transaction per poll
        async with unit_of_work(db) as uow:
            poll = await uow.polls.get(poll_id)
            if poll is None or poll.status != PollStatus.SCHEDULED:
                continue
            queued += await open_poll(uow, poll, settings, clock())
            await uow.commit()
        log.info("poll %s opened", poll_id)
    return queued


async def nudge_polls(db: Database, settings: Settings, clock: Clock) -> int:
    """Remind only those who have not answered, at the configured stages, at most N times."""
    now = clock()
    queued = 0
    async with unit_of_work(db) as uow:
        for poll in await uow.polls.open_polls():
            queued += await _nudge(uow, poll, settings, now)
        await uow.commit()
    return queued


async def _nudge(uow: UnitOfWork, poll: Poll, settings: Settings, now: datetime) -> int:
    assert poll.id is not None
    due = [
        (stage, at)
        for stage, at in nudge_times(poll, settings.poll_nudges)
        if at <= now and stage not in poll.nudges_done
    ]
    if not due or poll.closes_at <= now:
        return 0
    # Stages that came due together (the bot was down) make one nudge, not several.
    poll.nudges_done = [*poll.nudges_done, *(stage for stage, _ in due)]
    uow.session.add(poll)
    stage, at = due[-1]
    if at < (poll.opened_at or poll.opens_at):
        return 0  # a "24h before" stage of a poll open for less than a day
    await uow.polls.mark_unreachable(poll.id)
    unit = await uow.units.get(poll.unit_id)
    assert unit is not None
    send_at = next_allowed(now, settings.tz, *_quiet(unit, settings))
    if send_at >= poll.closes_at:
        return 0
    addressees = await uow.polls.addressees(
        poll.id, only_unanswered=True, max_nudges=settings.poll_max_nudges
    )
    queued = await queue_bulk(
        uow,
        poll,
        addressees,
        invitation(poll, N_("polls.nudge"), settings),
        tag=f"nudge-{stage}",
        now=now,
        send_at=send_at,
        category="nudge",
    )
    await uow.polls.count_nudge(poll.id, sorted({a.person_id for a in addressees}))
    return queued


async def close_due_polls(db: Database, settings: Settings, clock: Clock) -> int:
    """Close polls past their deadline; tell the organisers, and respondents if promised."""
    now = clock()
    sent = 0
    async with unit_of_work(db) as uow:
        due = [p.id for p in await uow.polls.open_polls() if p.closes_at <= now and p.id]
    for poll_id in due:
        async with unit_of_work(db) as uow:
            poll = await uow.polls.get(poll_id)
            if poll is None or poll.status != PollStatus.OPEN:
                continue
            await uow.polls.close(poll, now)
            sent += await tell_closed(uow, poll, settings, now)
            await uow.commit()
        log.info("poll %s closed", poll_id)
    return sent


async def tell_closed(uow: UnitOfWork, poll: Poll, settings: Settings, now: datetime) -> int:
    """The organisers get the results; respondents too when the poll promised it."""
    assert poll.id is not None
    unit = await uow.units.get(poll.unit_id)
    assert unit is not None
    send_at = next_allowed(now, settings.tz, *_quiet(unit, settings))
    organisers = {p.id: p for p in await uow.meetings.leaders(poll.unit_id)}
    if poll.created_by_person_id is not None:
        creator = await uow.people.get(poll.created_by_person_id)
        if creator is not None and creator.status == "active":
            organisers[creator.id] = creator
    sent = 0
    summaries: dict[str, str] = {}
    for person in organisers.values():
        if person.locale not in summaries:
            summaries[person.locale] = await closing_summary(
                uow, poll, unit, Translator(person.locale), settings
            )
        sent += await notify(
            uow,
            person,
            N_("polls.closed_organiser"),
            now=now,
            category="reminder",
            dedupe_key=f"poll:{poll.id}:closed:{person.id}",
            not_before=send_at,
            choices=[(f"!pollres:{poll.id}", N_("polls.see_results"))],
            summary=summaries[person.locale],
        )
    if not poll.results_to_respondents:
        return sent
    # Respondents may be a whole province: one rendering per language, bulk INSERTs.
    respondents = [
        a
        for a in await uow.polls.addressees(poll.id, only_answered=True)
        if a.person_id not in organisers
    ]
    for locale in {a.locale for a in respondents} - set(summaries):
        summaries[locale] = await closing_summary(uow, poll, unit, Translator(locale), settings)

    def results(t: Translator) -> Outgoing:
        text = t(N_("polls.closed_respondent"), summary=summaries[t.locale])
        return Outgoing(kind="send", chat_id="", text=text)

    return sent + await queue_bulk(
        uow,
        poll,
        respondents,
        results,
        tag="results",
        now=now,
        send_at=send_at,
        category="broadcast",
    )
