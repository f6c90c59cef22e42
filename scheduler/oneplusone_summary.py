""" "1+1" for the branch secretary: once a month, where the branch stands.

On the members' reminder day (the branch's own, or the default) each branch's
secretaries and deputies get one line — members who reached the target, young people
counted, records waiting for their confirmation — and a button to the branch report,
where they see who has and who has not. One message per leader, branch and month
(dedupe key), after the branch's quiet hours; muted leaders are left alone.

The figures come from one roll-up per province (a handful of queries whatever its
size), computed only while some leader is still to be told this month; the notices are
written in bulk, like the members' reminders.
"""

from __future__ import annotations

import logging

from sqlmodel import col, select

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import N_, Translator
from handlers.notify import message
from handlers.oneplusone.report_build import Figures, load_report
from handlers.oneplusone.rules import reminder_due
from scheduler.notices import daytime, send_time
from scheduler.oneplusone import overrides
from storage.db import Database
from storage.models import ChannelIdentity, OutboxMessage
from storage.outbox import BULK, pending_row
from storage.uow import UnitOfWork, unit_of_work
from storage.upsert import insert_ignore_many

log = logging.getLogger(__name__)


async def _told(uow: UnitOfWork, tag: str) -> set[tuple[int, int]]:
    """(leader, branch) pairs told this month: a leader of two branches with different
    days hears about each on its own day."""
    found = await uow.session.exec(
        select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).startswith(tag))
    )
    pairs = set()
    for key in found.all():
        parts = (key or "").removeprefix(tag).split(":")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            pairs.add((int(parts[0]), int(parts[1])))
    return pairs


async def summarise_for_secretaries(db: Database, settings: Settings, clock: Clock) -> int:
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
        tag = f"r11:summary:{today:%Y-%m}:"
        told = await _told(uow, tag)
        todo = [
            (person, unit)
            for person, unit in await uow.recruits.branch_leaders()
            if (person.id, unit.id) not in told
            and not person.mute_reminders
            and reminder_due(today, own.day(unit, default_day))
        ]
        if not todo:
            return 0
        figures: dict[int, Figures] = {}
        for root_id in sorted({int(unit.path.strip("/").split("/")[0]) for _, unit in todo}):
            root = await uow.units.get(root_id)
            if root is None:
                continue
            report = await load_report(uow, root, today.year, settings, today, names=False)
            figures.update({line.unit_id: line.figures for line in report.branches})
        accounts = await uow.session.exec(
            select(ChannelIdentity.person_id, ChannelIdentity.channel, ChannelIdentity.chat_id)
            .where(
                col(ChannelIdentity.person_id).in_({p.id for p, _ in todo}),
                col(ChannelIdentity.reachable).is_(True),
            )
            .order_by(col(ChannelIdentity.id))
        )
        reach: dict[int, list[tuple[str, str]]] = {}
        for person_id, channel, chat_id in accounts.all():
            reach.setdefault(person_id, []).append((channel, chat_id))
        rows = []
        for person, unit in todo:
            found = figures.get(unit.id or 0)
            if found is None or person.id is None:
                continue
            payload = message(
                Translator(person.locale),
                N_("r11.summary"),
                choices=[("!r11report", N_("r11.summary_open"))],
                hint_key=N_("r11.summary_hint"),
                unit=unit.name,
                year=today.year,
                reached=found.reached,
                members=found.members,
                took_part=found.took_part,
                target=found.target,
                waiting=found.waiting_secretary,
            ).to_json()
            send_at = send_time(unit, settings, now)
            rows += [
                pending_row(
                    channel,
                    {**payload, "chat_id": chat_id},
                    now=now,
                    priority=BULK,
                    dedupe_key=f"{tag}{person.id}:{unit.id}:{channel}",
                    not_before=send_at,
                    category="reminder",
                    person_id=person.id,
                )
                for channel, chat_id in reach.get(person.id, [])
            ]
        sent = await insert_ignore_many(uow.session, OutboxMessage, rows, ["dedupe_key"])
        await uow.commit()
    if sent:
        log.info("sent %d monthly 1+1 summaries to branch leaders", sent)
    return sent
