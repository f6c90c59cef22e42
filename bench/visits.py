"""How long the committee's "1+2" report takes for a province-sized set of cadres.

On a synthetic province (``bench/visit_province.py``: ``--cadres`` cadres, about
``--days`` logged days each over 2026, trips, exemptions; bulk-inserted, not timed),
the report of the whole province as of 15/11/2026, timed next to its floor, measured in
the same run on the same database:

* **floor**: ONE raw SQL query counting each cadre's distinct counted days in the
  window (``field_visit_day`` joined to ``field_visit`` for the status, grouped by
  person): the least any report must do;
* **report**: ``handlers.fieldvisits.report.load_report``, what ``/baocao12`` and
  ``doanbot visits report`` run: the rules, four queries (cadres, their distinct
  counted days, exemptions, trips) and the pure ``build_report``; then the chat text;
* **file**: the same with the days' entries (``days=True``: one row per entry and
  day, with its unit, kind and note), then the Excel workbook built from it.

Median of ``--runs`` runs each, after ANALYZE. The report's day count for every cadre
is checked against the floor's.

    .venv/bin/python -m bench.visits [--cadres 400] [--days 100] [--postgres URL]

SQLite always (a temp file). PostgreSQL too when ``--postgres URL`` is given or
DOANBOT_TEST_DATABASE_URL is set, in a database of its own on that server
(``--pg-database``, default ``bench``, created if missing, its public schema dropped
and re-created): the database named in the URL, which the tests use, is never touched.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Date, bindparam, text

from bench.polls import fresh_postgres
from bench.visit_province import CODE, Province, make_province
from bot.config import Settings
from bot.i18n import Translator
from handlers.fieldvisits.export import visit_workbook
from handlers.fieldvisits.report import load_report
from handlers.fieldvisits.report_build import VisitReport
from handlers.fieldvisits.report_text import report_text
from scheduler.field_visits import FieldVisitRules, counting_window
from storage.db import Database
from storage.migrate import upgrade_async
from storage.uow import unit_of_work

AS_OF = date(2026, 11, 15)
FLOOR = text(
    """
    SELECT d.person_id, count(DISTINCT d.day)
    FROM field_visit_day d JOIN field_visit v ON v.id = d.visit_id
    WHERE v.status = 'counted' AND d.day >= :first AND d.day <= :last
    GROUP BY d.person_id
    """
).bindparams(bindparam("first", type_=Date), bindparam("last", type_=Date))


@dataclass
class Figures:
    backend: str
    province: Province = field(default_factory=Province)
    setup: float = 0.0
    floor: list[float] = field(default_factory=list)
    report: list[float] = field(default_factory=list)
    text: list[float] = field(default_factory=list)
    detailed: list[float] = field(default_factory=list)
    workbook: list[float] = field(default_factory=list)
    counted_days: int = 0
    entries: int = 0
    workbook_bytes: int = 0


class Stopwatch:
    """Adds the seconds spent inside ``with`` to a list."""

    def __init__(self, into: list[float]) -> None:
        self.into = into

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self.into.append(time.perf_counter() - self.started)


async def _report(db: Database, settings: Settings, into: list[float], days: bool) -> VisitReport:
    async with unit_of_work(db) as uow:
        unit = await uow.units.by_code(CODE)
        assert unit is not None
        with Stopwatch(into):
            return await load_report(uow, unit, AS_OF, settings.tz, days=days)


async def measure(db: Database, settings: Settings, runs: int, figures: Figures) -> None:
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")  # what autovacuum / a DBA would have done
    window = counting_window(FieldVisitRules(), AS_OF)
    t = Translator("vi")
    floor: dict[int, int] = {}
    for _ in range(runs):
        async with db.engine.connect() as conn:
            with Stopwatch(figures.floor):
                rows = (await conn.execute(FLOOR, {"first": window[0], "last": AS_OF})).all()
            floor = {int(pid): int(n) for pid, n in rows}
        report = await _report(db, settings, figures.report, days=False)
        with Stopwatch(figures.text):
            report_text(report, t)
        detailed = await _report(db, settings, figures.detailed, days=True)
        with Stopwatch(figures.workbook):
            figures.workbook_bytes = len(visit_workbook(detailed, t))
    for checked in (report, detailed):
        mine = {c.person_id: c.summary.days for c in checked.cadres if c.summary.days}
        assert mine == floor, "the report and the floor disagree on the days counted"
    figures.counted_days = sum(floor.values())
    figures.entries = sum(len(c.days) for c in detailed.cadres)


async def run_backend(url: str, args: argparse.Namespace) -> Figures:
    figures = Figures("SQLite" if url.startswith("sqlite") else "PostgreSQL")
    await upgrade_async(url)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    db = Database(url)
    try:
        started = time.perf_counter()
        figures.province = await make_province(db, args.cadres, args.days, args.seed)
        figures.setup = time.perf_counter() - started
        print(f"{figures.backend}: province made in {figures.setup:.1f} s", flush=True)
        await measure(db, settings, args.runs, figures)
    finally:
        await db.dispose()
    return figures


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:,.0f} ms"


def table(all_figures: list[Figures], args: argparse.Namespace) -> str:
    first = all_figures[0]
    p = first.province
    lines = [
        f"province: {p.cadres:,} cadres, {p.visits:,} entries, {p.day_rows:,} day rows, "
        f"{p.trips:,} thematic trips, {p.exemptions} exemptions; as of {AS_OF:%d/%m/%Y}: "
        f"{first.counted_days:,} counted days ({first.entries:,} lines in the file); "
        f"seed {args.seed}; median of {args.runs} runs",
        "",
        "| backend | floor (1 raw GROUP BY) | load_report | of the floor | text "
        "| load_report with the days | Excel file |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for f in all_figures:
        ratio = statistics.median(f.floor) / statistics.median(f.report)
        size = f"{f.workbook_bytes / 1024:,.0f} KB"
        lines.append(
            f"| {f.backend} | {ms(f.floor)} | {ms(f.report)} | {ratio:.2f} | {ms(f.text)} "
            f"| {ms(f.detailed)} | {ms(f.workbook)} ({size}) |"
        )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'bench-visits.sqlite3'}"
        figures.append(await run_backend(sqlite, args))
    server = args.postgres or os.environ.get("DOANBOT_TEST_DATABASE_URL")
    if server:
        figures.append(await run_backend(await fresh_postgres(server, args.pg_database), args))
    print()
    print(table(figures, args))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cadres", type=int, default=400)
    parser.add_argument("--days", type=int, default=100, help="logged days per cadre, about")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (any database on it)")
    parser.add_argument("--pg-database", default="bench", help="the database used there")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
