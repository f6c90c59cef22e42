"""How long the "1+1" roll-up of a whole province takes, in chat and as an Excel file.

On a synthetic province (``bench/province.py``: ~40 grassroots unions, ``--branches``
branches, ``--members`` people, 96% active, 3% invited, 1% erased; bulk-inserted, not
timed), with ``--recruits`` recruits of 2026 (and a tenth as many of 2025) spread over
the members at random: 20% only contacted, 60% took part, 20% joined (the union or the
federation); 25% waiting for the young person, 50% confirmed, 8% declined, 8% lapsed,
3% withdrawn, 6% duplicates; a third of the unanswered ones confirmed by the
secretary. 70% of the branches recorded a plan, 30% evaluated; every fifth grassroots
union asks 2 young people per member. Timed, in the same run on the same database:

* **floor**: ONE raw SQL ``SELECT unit_id, count(*) FROM recruit WHERE year = … GROUP BY
  unit_id``: the least any count of recruits by branch must do;
* **load_report**: ``handlers.oneplusone.report_build.load_report`` for the province, as
  ``/baocao11`` and ``doanbot oneplusone report`` run it: five grouped queries (units,
  members, counted per member, recruits by what became of them, plans), the target from
  above, and the pure roll-up; then **text**, the chat summary;
* **Excel file**: ``report_workbook`` on it (summary, units, one row per branch);
* **branch**: the branch report of the largest branch (names and all, as its secretary
  reads it), and its Excel file.

Median of ``--runs`` runs each, after ANALYZE. The report's number of recruits is
checked against the floor's.

    .venv/bin/python -m bench.oneplusone [--members 20000] [--branches 1000] [--postgres URL]

SQLite always (a temp file). PostgreSQL too when ``--postgres URL`` is given or
DOANBOT_TEST_DATABASE_URL is set, in a database of its own on that server
(``--pg-database``, default ``bench``, created if missing, its public schema dropped and
re-created): the database named in the URL, which the tests use, is never touched.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text, update
from sqlmodel import col

from bench.polls import fresh_postgres
from bench.province import CODE, bulk_insert, make_province
from bench.visits import Stopwatch, ms
from bot.config import Settings
from bot.i18n import Translator
from handlers.oneplusone.export import report_workbook
from handlers.oneplusone.report_build import Report, load_report
from handlers.oneplusone.report_text import report_text
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import Recruit, RecruitPlan, Unit
from storage.types import utcnow
from storage.uow import unit_of_work

YEAR = 2026
TODAY = date(2026, 11, 22)
FLOOR = text("SELECT unit_id, count(*) FROM recruit WHERE year = :year GROUP BY unit_id")
STAGES = ("contacted",) * 20 + ("took_part",) * 60 + ("joined",) * 20
CONSENTS = (
    ("pending",) * 25
    + ("confirmed",) * 50
    + ("declined",) * 8
    + ("lapsed",) * 8
    + ("withdrawn",) * 3
    + ("duplicate",) * 6
)
GRADES = ("excellent", "good", "good", "done", "done", "not_done")


@dataclass
class Figures:
    backend: str
    setup: float = 0.0
    people: int = 0
    branches: int = 0
    recruits: int = 0
    plans: int = 0
    floor: list[float] = field(default_factory=list)
    report: list[float] = field(default_factory=list)
    text: list[float] = field(default_factory=list)
    workbook: list[float] = field(default_factory=list)
    branch: list[float] = field(default_factory=list)
    branch_workbook: list[float] = field(default_factory=list)
    branch_members: int = 0
    workbook_bytes: int = 0
    line: str = ""


async def add_recruits(db: Database, recruits: int, seed: int) -> tuple[int, int]:
    """Recruits and plans over the province's members; (recruits, plans) inserted."""
    rng = random.Random(seed)
    now = utcnow()
    async with db.engine.connect() as conn:
        members = (
            await conn.execute(
                text("SELECT person_id, unit_id FROM membership WHERE role = 'member'")
            )
        ).all()
        grassroots = [r[0] for r in await conn.execute(text("SELECT id FROM unit WHERE depth = 1"))]
    rows: list[dict[str, Any]] = []
    for n in range(recruits + recruits // 10):
        person_id, unit_id = rng.choice(members)
        year = YEAR if n < recruits else YEAR - 1
        stage, consent = rng.choice(STAGES), rng.choice(CONSENTS)
        named = consent in ("pending", "confirmed")
        verified = consent in ("pending", "lapsed") and rng.random() < 1 / 3
        rows.append(
            {
                "id": n + 1,
                "member_id": person_id,
                "unit_id": unit_id,
                "year": year,
                "name": f"Thanh niên {n + 1}" if named else None,
                "relation": "friend" if named else None,
                "activity": "Ngày Chủ nhật xanh",
                "activity_on": date(year, 1, 1) + timedelta(days=rng.randrange(300)),
                "stage": stage,
                "joined_as": rng.choice(("union", "union", "federation"))
                if stage == "joined"
                else None,
                "consent": consent,
                "verified_at": now if verified else None,
                "created_at": now,
                "updated_at": now,
            }
        )
    branches = sorted({unit_id for _, unit_id in members})
    plans = []
    for unit_id in branches:
        if rng.random() >= 0.7:
            continue
        evaluated = rng.random() < 0.3 / 0.7
        plans.append(
            {
                "id": len(plans) + 1,
                "unit_id": unit_id,
                "year": YEAR,
                "surveyed": rng.randint(3, 40),
                "activities": "Ngày hội việc làm",
                "planned_at": now,
                "grade": rng.choice(GRADES) if evaluated else None,
                "figures": {},
                "evaluated_at": now if evaluated else None,
            }
        )
    await bulk_insert(db, Recruit, rows)
    await bulk_insert(db, RecruitPlan, plans)
    async with db.engine.begin() as conn:
        await conn.execute(
            update(Unit)
            .where(col(Unit.id).in_(grassroots[::5]))
            .values(settings={"oneplusone_target": 2})
        )
    return len(rows), len(plans)


async def _report(
    db: Database, settings: Settings, into: list[float], code: str = CODE, names: bool = False
) -> Report:
    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code(code)
        assert unit is not None
        with Stopwatch(into):
            return await load_report(uow, unit, YEAR, settings, TODAY, names=names)


async def measure(db: Database, settings: Settings, runs: int, figures: Figures) -> None:
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")  # what autovacuum / a DBA would have done
    t = Translator("vi")
    floor: dict[int, int] = {}
    for _ in range(runs):
        async with db.engine.connect() as conn:
            with Stopwatch(figures.floor):
                rows = (await conn.execute(FLOOR, {"year": YEAR})).all()
            floor = {int(unit_id): int(n) for unit_id, n in rows}
        report = await _report(db, settings, figures.report)
        with Stopwatch(figures.text):
            report_text(report, t)
        with Stopwatch(figures.workbook):
            figures.workbook_bytes = len(report_workbook(report, t))
        largest = max(report.branches, key=lambda b: b.figures.members)
        branch = await _report(db, settings, figures.branch, largest.code, names=True)
        with Stopwatch(figures.branch_workbook):
            report_workbook(branch, t)
    figures.branch_members = largest.figures.members
    assert report.totals.recorded == sum(floor.values()), "the report and the floor disagree"
    figures.branches = report.totals.branches
    figures.line = report_text(report, t).splitlines()[1]


async def run_backend(url: str, args: argparse.Namespace) -> Figures:
    figures = Figures("SQLite" if url.startswith("sqlite") else "PostgreSQL")
    await upgrade_async(url)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    db = Database(url)
    try:
        started = time.perf_counter()
        province = await make_province(
            db, members=args.members, branches=args.branches, answered_share=0, seed=args.seed
        )
        figures.people = province.people
        figures.recruits, figures.plans = await add_recruits(db, args.recruits, args.seed)
        figures.setup = time.perf_counter() - started
        print(f"{figures.backend}: province made in {figures.setup:.1f} s", flush=True)
        await measure(db, settings, args.runs, figures)
    finally:
        await db.dispose()
    return figures


def table(all_figures: list[Figures], args: argparse.Namespace) -> str:
    first = all_figures[0]
    lines = [
        f"province: {first.people:,} people, {first.branches:,} branches with members, "
        f"{first.recruits:,} recruits ({args.recruits:,} of {YEAR}), {first.plans:,} plans; "
        f"seed {args.seed}; median of {args.runs} runs",
        f"totals: {first.line}",
        "",
        "| backend | floor (1 raw GROUP BY) | load_report | of the floor | text | Excel file "
        f"| branch report ({first.branch_members} members) | its Excel file |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in all_figures:
        ratio = statistics.median(f.floor) / statistics.median(f.report)
        size = f"{f.workbook_bytes / 1024:,.0f} KB"
        lines.append(
            f"| {f.backend} | {ms(f.floor)} | {ms(f.report)} | {ratio:.2f} | {ms(f.text)} "
            f"| {ms(f.workbook)} ({size}) | {ms(f.branch)} | {ms(f.branch_workbook)} |"
        )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'bench-oneplusone.sqlite3'}"
        figures.append(await run_backend(sqlite, args))
    server = args.postgres or os.environ.get("DOANBOT_TEST_DATABASE_URL")
    if server:
        figures.append(await run_backend(await fresh_postgres(server, args.pg_database), args))
    print()
    print(table(figures, args))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--branches", type=int, default=1_000)
    parser.add_argument("--recruits", type=int, default=25_000, help=f"of {YEAR}")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (any database on it)")
    parser.add_argument("--pg-database", default="bench", help="the database used there")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
