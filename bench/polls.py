"""How fast a province-wide poll is fanned out, and how fast its results are counted.

On a synthetic province (``bench/province.py``: ~40 grassroots unions, branches, people
with ~1.6 accounts each, some unreachable), in the same run and on the same database:

1. **fan-out**: ``scheduler.polls.open_poll`` for a poll to the whole province (the
   recipients recorded with one INSERT … SELECT, the invitations queued as outbox rows,
   committed), next to its floor: the same outbox rows, precomputed (read back from the
   fan-out), inserted again into the emptied table with bare multi-row INSERTs, committed;
2. **result query**: ``storage.poll_results.load_counts`` (three grouped queries) and the
   pure roll-up ``handlers.polls.results.build_results`` for the province's view, next to
   the floor: the same choice counts as ONE raw SQL GROUP BY (question, unit, option), and
   all three aggregates as one raw UNION ALL query. Median of ``--runs`` runs each.

    .venv/bin/python -m bench.polls [--members 100000] [--postgres URL] [--answered 1.0]

SQLite always (a temp file). PostgreSQL too when ``--postgres URL`` is given or
DOANBOT_TEST_DATABASE_URL is set: the benchmark then works in a database of its own on
that server (``--pg-database``, default ``bench``, created if missing), whose public
schema it drops and re-creates; it never touches the database named in the URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url

import scheduler.polls
from bench.province import Answers, Province, fill_answers, make_poll, make_province
from bot.config import Settings
from handlers.polls.results import build_results
from storage.db import Database, normalise_url
from storage.migrate import upgrade_async
from storage.poll_results import load_counts
from storage.types import utcnow
from storage.uow import unit_of_work

T = TypeVar("T")
OUTBOX_COLUMNS = (
    "dedupe_key",
    "channel",
    "chat_id",
    "priority",
    "category",
    "person_id",
    "payload",
    "status",
    "attempts",
    "not_before",
    "created_at",
)
# Bound parameters per statement: SQLite allows 32,766, asyncpg 32,767.
MAX_PARAMS = {"sqlite": 32_000, "postgresql": 32_000}


@dataclass
class Figures:
    backend: str
    province: Province | None = None
    setup: float = 0.0
    outbox_rows: int = 0
    recipients: int = 0
    fanout: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    floor: float = 0.0
    answers: Answers | None = None
    load_counts: list[float] = field(default_factory=list)
    rollup: list[float] = field(default_factory=list)
    raw_choices: list[float] = field(default_factory=list)
    raw_all: list[float] = field(default_factory=list)


# --- databases -------------------------------------------------------------------------


async def fresh_postgres(server_url: str, name: str) -> str:
    """A URL for database ``name`` on the server of ``server_url``, created if missing,
    with an empty public schema."""
    import asyncpg

    url = make_url(normalise_url(server_url))
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    target = url.set(database=name)
    conn = await asyncpg.connect(target.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    return target.render_as_string(hide_password=False)


@contextmanager
def timed(into: dict[str, float], name: str) -> Any:
    started = time.perf_counter()
    try:
        yield
    finally:
        into[name] = into.get(name, 0.0) + time.perf_counter() - started


def _wrap(into: dict[str, float], name: str, fn: Callable[..., Awaitable[T]]) -> Any:
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        with timed(into, name):
            return await fn(*args, **kwargs)

    return wrapper


# --- 1. fan-out ------------------------------------------------------------------------


async def fanout(db: Database, settings: Settings, poll_id: int, figures: Figures) -> None:
    """open_poll as the scheduler runs it (one transaction), timed by phase."""
    phases: dict[str, float] = {}
    original = scheduler.polls.insert_ignore_many
    scheduler.polls.insert_ignore_many = _wrap(phases, "outbox INSERTs", original)
    try:
        async with unit_of_work(db) as uow:
            poll = await uow.polls.get(poll_id)
            assert poll is not None
            uow.polls.add_recipients = _wrap(  # type: ignore[method-assign]
                phases, "recipients INSERT … SELECT", uow.polls.add_recipients
            )
            uow.polls.addressees = _wrap(  # type: ignore[method-assign]
                phases, "addressees SELECT", uow.polls.addressees
            )
            started = time.perf_counter()
            figures.outbox_rows = await scheduler.polls.open_poll(uow, poll, settings, utcnow())
            with timed(phases, "commit"):
                await uow.commit()
            figures.fanout = time.perf_counter() - started
    finally:
        scheduler.polls.insert_ignore_many = original
    phases["building rows, other"] = figures.fanout - sum(phases.values())
    figures.phases = phases
    async with db.engine.connect() as conn:
        figures.recipients = int(
            (await conn.execute(text("SELECT count(*) FROM poll_recipient"))).scalar_one()
        )


async def floor_insert(db: Database, figures: Figures) -> None:
    """The fan-out's own outbox rows, read back as the driver returns them, put back
    into the emptied table with bare multi-row INSERTs in one transaction."""
    columns = ", ".join(OUTBOX_COLUMNS)
    async with db.engine.begin() as conn:
        result = await conn.exec_driver_sql(f"SELECT {columns} FROM outbox_message ORDER BY id")
        # The driver's own values; PostgreSQL's hands JSON back decoded, so encode it again.
        payload = OUTBOX_COLUMNS.index("payload")
        rows = [
            tuple(
                json.dumps(v) if i == payload and not isinstance(v, str) else v
                for i, v in enumerate(r)
            )
            for r in result.all()
        ]
        await conn.exec_driver_sql(
            "DELETE FROM outbox_message" if db.is_sqlite else "TRUNCATE outbox_message"
        )
    assert len(rows) == figures.outbox_rows
    backend = "sqlite" if db.is_sqlite else "postgresql"
    per_statement = MAX_PARAMS[backend] // len(OUTBOX_COLUMNS)

    def statement(n: int) -> str:
        if db.is_sqlite:
            values = ", ".join(["(" + ", ".join("?" * len(OUTBOX_COLUMNS)) + ")"] * n)
        else:
            width = len(OUTBOX_COLUMNS)
            values = ", ".join(
                "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")"
                for r in range(n)
            )
        return f"INSERT INTO outbox_message ({columns}) VALUES {values}"

    batches = [rows[i : i + per_statement] for i in range(0, len(rows), per_statement)]
    statements = {len(b): statement(len(b)) for b in batches}  # precomputed too
    flat = [tuple(v for row in batch for v in row) for batch in batches]
    started = time.perf_counter()
    async with db.engine.begin() as conn:
        for batch, params in zip(batches, flat, strict=True):
            await conn.exec_driver_sql(statements[len(batch)], params)
    figures.floor = time.perf_counter() - started


# --- 2. result query -------------------------------------------------------------------

RAW_CHOICES = """
SELECT c.question_id, c.unit_id, c.option, count(*)
FROM poll_choice c
WHERE c.question_id IN (SELECT id FROM poll_question WHERE poll_id = :poll)
GROUP BY c.question_id, c.unit_id, c.option
"""
RAW_ALL = """
SELECT 'c', c.question_id, c.unit_id, c.option, count(*), 0, 0
FROM poll_choice c
WHERE c.question_id IN (SELECT id FROM poll_question WHERE poll_id = :poll)
GROUP BY c.question_id, c.unit_id, c.option
UNION ALL
SELECT 'r', r.question_id, r.unit_id, 0, count(*), 0, 0
FROM poll_response r WHERE r.poll_id = :poll
GROUP BY r.question_id, r.unit_id
UNION ALL
SELECT 'p', 0, p.unit_id, 0, count(*),
       sum(CASE WHEN p.answered OR NOT p.unreachable THEN 1 ELSE 0 END),
       sum(CASE WHEN p.answered THEN 1 ELSE 0 END)
FROM poll_recipient p WHERE p.poll_id = :poll
GROUP BY p.unit_id
"""


async def results(db: Database, settings: Settings, poll_id: int, runs: int, f: Figures) -> None:
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")  # what autovacuum / a DBA would have done
    for _ in range(runs):
        async with unit_of_work(db) as uow:
            poll = await uow.polls.get(poll_id)
            root = await uow.units.by_code("BENCH")
            assert poll is not None and root is not None
            questions = await uow.polls.questions(poll_id)
            subtree = list(await uow.units.subtree(root))
            started = time.perf_counter()
            counts = await load_counts(uow.session, poll_id)
            f.load_counts.append(time.perf_counter() - started)
            started = time.perf_counter()
            build_results(poll, questions, subtree, counts, tz=settings.tz)
            f.rollup.append(time.perf_counter() - started)
        for query, into in ((RAW_CHOICES, f.raw_choices), (RAW_ALL, f.raw_all)):
            async with db.engine.connect() as conn:
                started = time.perf_counter()
                rows = (await conn.execute(text(query), {"poll": poll_id})).all()
                into.append(time.perf_counter() - started)
                assert rows
    assert f.answers is not None
    total = sum(counts.choices.values())
    assert total == f.answers.choices, (total, f.answers.choices)


# --- a run -----------------------------------------------------------------------------


async def run_backend(url: str, args: argparse.Namespace) -> Figures:
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    figures = Figures(backend)
    await upgrade_async(url)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    db = Database(url)
    try:
        started = time.perf_counter()
        figures.province = await make_province(
            db,
            members=args.members,
            branches=args.branches or max(1, args.members // 25),
            answered_share=args.answered,
            seed=args.seed,
        )
        poll_id = await make_poll(db, figures.province, now=utcnow())
        figures.setup = time.perf_counter() - started
        print(f"{backend}: province of {args.members} made in {figures.setup:.1f} s", flush=True)
        await fanout(db, settings, poll_id, figures)
        print(f"{backend}: fan-out {figures.fanout:.2f} s", flush=True)
        await floor_insert(db, figures)
        started = time.perf_counter()
        figures.answers = await fill_answers(
            db, figures.province, poll_id, secret=settings.poll_secret
        )
        print(f"{backend}: answers written in {time.perf_counter() - started:.1f} s", flush=True)
        await results(db, settings, poll_id, args.runs, figures)
    finally:
        await db.dispose()
    return figures


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "-"


def report(all_figures: list[Figures], args: argparse.Namespace) -> str:
    median = statistics.median
    p = all_figures[0].province
    assert p is not None
    lines = [
        f"province: {p.people:,} people ({p.active:,} active) in {p.branches:,} branches under "
        f"{p.grassroots} grassroots unions; {p.identities:,} accounts ({p.unreachable:,} "
        f"unreachable); seed {p.seed}",
        "",
        "1. fan-out of a province-wide poll (open_poll, committed; one run)",
        "",
        "| backend | recipients | outbox rows | floor (bare multi-row INSERT) | open_poll "
        "| of the floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for f in all_figures:
        lines.append(
            f"| {f.backend} | {f.recipients:,} | {f.outbox_rows:,} | {f.floor:.2f} s "
            f"({rate(f.outbox_rows, f.floor)} rows/s) | {f.fanout:.2f} s "
            f"({rate(f.outbox_rows, f.fanout)} rows/s) | {f.floor / f.fanout:.2f} |"
        )
    lines += ["", "open_poll by phase:", ""]
    names = list(all_figures[0].phases)
    lines.append("| phase | " + " | ".join(f.backend for f in all_figures) + " |")
    lines.append("|---|" + "---:|" * len(all_figures))
    for name in names:
        cells = " | ".join(f"{f.phases.get(name, 0.0):.2f} s" for f in all_figures)
        lines.append(f"| {name} | {cells} |")
    a = all_figures[0].answers
    assert a is not None
    lines += [
        "",
        f"2. results of the poll: {a.respondents:,} respondents, {a.responses:,} answers to "
        f"questions, {a.choices:,} options picked (median of {args.runs} runs)",
        "",
        "| backend | raw GROUP BY (choices only) | raw UNION ALL (all three) | load_counts "
        "(3 queries) | of the raw UNION | build_results (roll-up) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for f in all_figures:
        raw_c, raw_a = median(f.raw_choices), median(f.raw_all)
        counts, rollup = median(f.load_counts), median(f.rollup)
        lines.append(
            f"| {f.backend} | {raw_c * 1000:.0f} ms | {raw_a * 1000:.0f} ms | "
            f"{counts * 1000:.0f} ms | {raw_a / counts:.2f} | {rollup * 1000:.0f} ms |"
        )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'bench-polls.sqlite3'}"
        figures.append(await run_backend(sqlite, args))
    server = args.postgres or os.environ.get("DOANBOT_TEST_DATABASE_URL")
    if server:
        figures.append(await run_backend(await fresh_postgres(server, args.pg_database), args))
    print()
    print(report(figures, args))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--branches", type=int, default=0, help="default: members / 25")
    parser.add_argument(
        "--answered", type=float, default=1.0, help="share of recipients who answer"
    )
    parser.add_argument("--runs", type=int, default=5, help="runs of each result query")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (any database on it)")
    parser.add_argument("--pg-database", default="bench", help="the database used there")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
