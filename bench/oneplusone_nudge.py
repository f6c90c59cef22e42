"""How long the "1+1" monthly reminder takes for a province, next to its floor.

On a synthetic province (``bench/province.py``: branches, ``--members`` people, ~1.6
accounts each, some unreachable, 4% not active) where 40% of the active members already
have a young person who counts this year and 10% one waiting for a confirmation, on the
reminder day at 09:00, measured in the same run on the same database:

1. **job**: ``scheduler.oneplusone.remind_behind_members`` as the scheduler runs it (one
   transaction: who is behind, their accounts, the rows written, committed), by phase;
2. **repeated tick**: the same job a tick later, when everybody has been told;
3. **floor**: the job's own outbox rows (read back, so precomputed) inserted again into
   the emptied table with a bare ``storage.upsert.insert_ignore_many``, committed;
4. **notify per person**: the same reminders queued with ``handlers.notify.notify`` one
   member at a time (what ``field_jobs`` does for a few hundred cadres), committed.

    .venv/bin/python -m bench.oneplusone_nudge [--members 20000] [--postgres URL]

SQLite always (a temp file). PostgreSQL too with ``--postgres URL``, in a database of
its own on that server (``--pg-database``, default ``bench_r11``, created if missing,
its public schema dropped and re-created); the database the URL names is never touched.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import col, select

import scheduler.oneplusone
from bench.polls import OUTBOX_COLUMNS, _wrap, fresh_postgres
from bench.province import bulk_insert, make_province
from bot.config import Settings
from bot.i18n import N_
from handlers.notify import notify
from scheduler.oneplusone import (
    NEW_MEMBER_DAYS,
    NUDGE_CHOICES,
    candidates,
    remind_behind_members,
)
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import (
    ChannelIdentity,
    Membership,
    OutboxMessage,
    Person,
    PersonStatus,
    Recruit,
    RecruitConsent,
    RecruitStage,
)
from storage.types import utcnow
from storage.uow import unit_of_work
from storage.upsert import insert_ignore_many

COUNTED_SHARE = 0.40
WAITING_SHARE = 0.10


@dataclass
class Figures:
    backend: str
    members: int = 0
    behind: int = 0
    rows: int = 0
    job: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    repeat: float = 0.0
    floor: float = 0.0
    per_person: float = 0.0
    summaries: int = 0  # the branch leaders' monthly summaries queued
    summary: float = 0.0
    summary_repeat: float = 0.0


async def add_recruits(db: Database, year: int, seed: int) -> int:
    """A counted young person for 40% of the active members, one waiting for 10%."""
    rng = random.Random(seed)
    async with unit_of_work(db) as uow:
        found = await uow.session.exec(
            select(Membership.person_id, Membership.unit_id)
            .join(Person, col(Person.id) == col(Membership.person_id))
            .where(Membership.role == "member", Person.status == PersonStatus.ACTIVE)
        )
        members = found.all()
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for person_id, unit_id in members:
        roll = rng.random()
        if roll >= COUNTED_SHARE + WAITING_SHARE:
            continue
        counted = roll < COUNTED_SHARE
        rows.append(
            {
                "member_id": person_id,
                "unit_id": unit_id,
                "year": year,
                "name": None if counted else "Thanh niên",
                "activity": "Ngày hội hiến máu",
                "activity_on": now.date(),
                "stage": RecruitStage.TOOK_PART.value,
                "consent": (RecruitConsent.CONFIRMED if counted else RecruitConsent.PENDING).value,
                "created_at": now,
                "updated_at": now,
            }
        )
    await bulk_insert(db, Recruit, rows)
    # Everybody joined the bot long ago: nobody is too new to be reminded.
    async with db.engine.begin() as conn:
        await conn.execute(update(ChannelIdentity).values(created_at=now - timedelta(days=60)))
    return len(members)


async def job(db: Database, settings: Settings, now: datetime, figures: Figures) -> None:
    phases: dict[str, float] = {}
    module: Any = scheduler.oneplusone
    originals = (module.candidates, module.insert_ignore_many)
    module.candidates = _wrap(phases, "who is behind (4 SELECTs)", originals[0])
    module.insert_ignore_many = _wrap(phases, "outbox INSERTs", originals[1])
    try:
        started = time.perf_counter()
        figures.rows = await remind_behind_members(db, settings, lambda: now)
        figures.job = time.perf_counter() - started
    finally:
        module.candidates, module.insert_ignore_many = originals
    phases["targets, rendering, commit, other"] = figures.job - sum(phases.values())
    figures.phases = phases
    async with unit_of_work(db) as uow:
        result = await uow.session.exec(select(func.count(func.distinct(OutboxMessage.person_id))))
        figures.behind = int(result.one())
    started = time.perf_counter()
    assert await remind_behind_members(db, settings, lambda: now + timedelta(seconds=30)) == 0
    figures.repeat = time.perf_counter() - started


async def floor(db: Database, figures: Figures) -> None:
    async with unit_of_work(db) as uow:
        result = await uow.session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        rows = [{name: getattr(r, name) for name in OUTBOX_COLUMNS} for r in result.all()]
    async with db.engine.begin() as conn:
        await conn.execute(delete(OutboxMessage))
    assert len(rows) == figures.rows
    started = time.perf_counter()
    async with unit_of_work(db) as uow:
        added = await insert_ignore_many(uow.session, OutboxMessage, rows, ["dedupe_key"])
        await uow.commit()
    figures.floor = time.perf_counter() - started
    assert added == figures.rows


async def per_person(db: Database, settings: Settings, now: datetime, figures: Figures) -> None:
    """The same reminders (default target 1, no unit overrides here) through ``notify``."""
    async with db.engine.begin() as conn:
        await conn.execute(delete(OutboxMessage))
    tag = f"r11:nudge:{now:%Y-%m}:"
    started = time.perf_counter()
    async with unit_of_work(db) as uow:
        members, _ = await candidates(
            uow,
            tag,
            now.year,
            joined_by=now - timedelta(days=NEW_MEMBER_DAYS),
            below=settings.oneplusone_target,
        )
        added = 0
        for member in members:
            person = await uow.people.get(member.person_id)
            assert person is not None
            added += await notify(
                uow,
                person,
                N_("r11.nudge"),
                now=now,
                category="nudge",
                dedupe_key=f"{tag}{member.person_id}",
                choices=NUDGE_CHOICES,
                hint_key=N_("r11.nudge_hint"),
                counted=member.counted,
                target=settings.oneplusone_target,
                year=now.year,
                waiting=member.waiting,
                months_left=13 - now.month,
            )
        await uow.commit()
    figures.per_person = time.perf_counter() - started
    assert added == figures.rows, (added, figures.rows)


async def summary(db: Database, settings: Settings, now: datetime, figures: Figures) -> None:
    """The branch leaders' monthly summary: one roll-up of the province, one notice each."""
    from scheduler.oneplusone_summary import summarise_for_secretaries

    started = time.perf_counter()
    figures.summaries = await summarise_for_secretaries(db, settings, lambda: now)
    figures.summary = time.perf_counter() - started
    started = time.perf_counter()
    assert await summarise_for_secretaries(db, settings, lambda: now) == 0
    figures.summary_repeat = time.perf_counter() - started


async def run_backend(url: str, args: argparse.Namespace) -> Figures:
    figures = Figures("SQLite" if url.startswith("sqlite") else "PostgreSQL")
    await upgrade_async(url)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    local = utcnow().astimezone(settings.tz)
    day = settings.oneplusone_reminder_day
    now = local.replace(day=day, hour=9, minute=0, second=0, microsecond=0)
    db = Database(url)
    try:
        await make_province(
            db,
            members=args.members,
            branches=max(1, args.members // 25),
            answered_share=0.0,
            seed=args.seed,
        )
        figures.members = await add_recruits(db, now.year, args.seed)
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
        print(f"{figures.backend}: province of {args.members:,} made", flush=True)
        await job(db, settings, now, figures)
        print(f"{figures.backend}: job {figures.job:.2f} s", flush=True)
        await floor(db, figures)
        await summary(db, settings, now, figures)
        if not args.skip_per_person:
            await per_person(db, settings, now, figures)
    finally:
        await db.dispose()
    return figures


def report(all_figures: list[Figures]) -> str:
    lines = [
        "| backend | members (active, in a branch) | reminded | outbox rows | floor "
        "(bare insert_ignore_many) | remind_behind_members | of the floor | repeated tick "
        "| notify per person |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in all_figures:
        per_person = f"{f.per_person:.2f} s" if f.per_person else "-"
        lines.append(
            f"| {f.backend} | {f.members:,} | {f.behind:,} | {f.rows:,} | {f.floor:.2f} s | "
            f"{f.job:.2f} s | {f.floor / f.job:.2f} | {f.repeat:.2f} s | {per_person} |"
        )
    lines += [
        "",
        "summarise_for_secretaries (the same day, every branch's leaders):",
        "",
        "| backend | notices queued | first tick | repeated tick |",
        "|---|---:|---:|---:|",
    ]
    for f in all_figures:
        lines.append(
            f"| {f.backend} | {f.summaries:,} | {f.summary:.2f} s | {f.summary_repeat:.2f} s |"
        )
    lines += ["", "remind_behind_members by phase:", ""]
    lines.append("| phase | " + " | ".join(f.backend for f in all_figures) + " |")
    lines.append("|---|" + "---:|" * len(all_figures))
    for name in all_figures[0].phases:
        cells = " | ".join(f"{f.phases.get(name, 0.0):.2f} s" for f in all_figures)
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'bench-r11.sqlite3'}"
        figures.append(await run_backend(sqlite, args))
    if args.postgres:
        figures.append(
            await run_backend(await fresh_postgres(args.postgres, args.pg_database), args)
        )
    print()
    print(report(figures))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (any database on it)")
    parser.add_argument("--pg-database", default="bench_r11", help="the database used there")
    parser.add_argument("--skip-per-person", action="store_true", help="leave out step 4")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
