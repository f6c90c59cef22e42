""" "1+1" for the branch secretary: once a month, where the branch stands.

On the members' reminder day (the branch's own, or the default) each branch's
secretaries and deputies get one line — members who reached the target, young people
counted, records waiting for their confirmation — and a button to the branch report,
where they see who has and who has not. One message per leader, branch and month
(dedupe key), after the branch's quiet hours; muted leaders are left alone.

The figures come from one roll-up per province (a handful of queries whatever its
size), computed only while some leader is still to be told this month.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import N_
from handlers.notify import notify
from handlers.oneplusone.report_build import Figures, load_report
from handlers.oneplusone.rules import reminder_due
from scheduler.notices import already_told, daytime, send_time
from scheduler.oneplusone import overrides
from storage.db import Database
from storage.uow import unit_of_work

log = logging.getLogger(__name__)


async def summarise_for_secretaries(db: Database, settings: Settings, clock: Clock) -> int:
    now = clock()
    local = daytime(now, settings)
    if local is None:
        return 0
    today = local.date()
    default_day = settings.oneplusone_reminder_day
    sent = 0
    async with unit_of_work(db) as uow:
        own = await overrides(uow)
        if not own.any_day_due(today, default_day):
            return 0
        tag = f"r11:summary:{today:%Y-%m}:"
        told = await already_told(uow, tag)
        todo = [
            (person, unit)
            for person, unit in await uow.recruits.branch_leaders()
            if person.id not in told
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
        for person, unit in todo:
            found = figures.get(unit.id or 0)
            if found is None:
                continue
            sent += await notify(
                uow,
                person,
                N_("r11.summary"),
                now=now,
                category="reminder",
                dedupe_key=f"{tag}{person.id}:{unit.id}",
                not_before=send_time(unit, settings, now),
                choices=[("!r11report", N_("r11.summary_open"))],
                hint_key=N_("r11.summary_hint"),
                unit=unit.name,
                year=today.year,
                reached=found.reached,
                members=found.members,
                took_part=found.took_part,
                target=found.target,
                waiting=found.waiting_secretary,
            )
        await uow.commit()
    if sent:
        log.info("sent %d monthly 1+1 summaries to branch leaders", sent)
    return sent
