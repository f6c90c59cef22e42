"""How many incoming messages per second the engine turns into stored replies.

Measures the full path an update takes inside the bot — stored in the inbox,
handled in its own transaction (identity, roles, conversation state, the flow),
replies written to the outbox — for many members at once, and prints it next to
a floor measured in the same run on the same database: the bare SQL the path
cannot avoid (insert the update, insert one reply, mark the update done, one
transaction per event).

    .venv/bin/python bench/engine.py [--events 2000] [--members 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bot.app import create_app
from bot.config import Settings
from bot.messages import Channel, Incoming
from storage.migrate import upgrade_async
from storage.models import PersonStatus
from storage.sample import seed_sample_province
from storage.types import utcnow
from storage.uow import unit_of_work


async def seed_members(app, members: int) -> None:  # type: ignore[no-untyped-def]
    async with unit_of_work(app.db) as uow:
        await seed_sample_province(uow, utcnow())
        unit = await uow.units.by_code("AP-PT-A1")
        for i in range(members):
            person = await uow.people.add(f"Đoàn Viên {i}", "vi", PersonStatus.ACTIVE)
            await uow.people.add_identity(person, "zalo", f"u{i}", f"u{i}", utcnow())
            await uow.people.add_membership(person, unit, "member")
        await uow.commit()


async def engine_run(url: str, events: int, members: int) -> tuple[float, list[float]]:
    app = create_app(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    await seed_members(app, members)
    latencies: list[float] = []

    async def one(i: int) -> None:
        user = f"u{i % members}"
        incoming = Incoming(
            channel=Channel.ZALO,
            update_key=f"b{i}",
            chat_id=user,
            user_id=user,
            received_at=datetime.now(UTC),
            text="/dulieucuatoi",
        )
        started = time.perf_counter()
        await app.processor.accept(incoming)
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(events)))
    await app.processor.idle()
    elapsed = time.perf_counter() - started
    async with unit_of_work(app.db) as uow:
        sent = (await uow.session.execute(text("SELECT count(*) FROM outbox_message"))).scalar()
    assert sent == 2 * events, f"{sent - events} replies for {events} events"  # + the floor's
    await app.db.dispose()
    return elapsed, latencies


async def floor_run(url: str, events: int) -> float:
    app = create_app(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    started = time.perf_counter()

    async def one(i: int) -> None:
        async with unit_of_work(app.db) as uow:
            s = uow.session
            await s.execute(
                text(
                    "INSERT INTO inbox_event (channel, update_key, user_key, payload, status, "
                    "attempts, received_at) VALUES ('zalo', :k, :u, '{}', 'pending', 0, :t)"
                ),
                {"k": f"f{i}", "u": f"u{i}", "t": datetime.now(UTC).replace(tzinfo=None)},
            )
            await s.execute(
                text(
                    "INSERT INTO outbox_message (channel, chat_id, priority, payload, status, "
                    "attempts, not_before, created_at) VALUES ('zalo', :u, 0, '{}', 'pending', 0, "
                    ":t, :t)"
                ),
                {"u": f"u{i}", "t": datetime.now(UTC).replace(tzinfo=None)},
            )
            await s.execute(
                text("UPDATE inbox_event SET status='done', payload=NULL WHERE update_key=:k"),
                {"k": f"f{i}"},
            )
            await uow.commit()

    await asyncio.gather(*(one(i) for i in range(events)))
    elapsed = time.perf_counter() - started
    await app.db.dispose()
    return elapsed


async def refuse_used_database(url: str) -> None:
    app = create_app(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    async with unit_of_work(app.db) as uow:
        used = (await uow.session.execute(text("SELECT count(*) FROM inbox_event"))).scalar()
    await app.db.dispose()
    if used:
        raise SystemExit("the benchmark needs an empty database (it writes test rows)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        await upgrade_async(url)
        await refuse_used_database(url)
        floor = await floor_run(url, args.events)
        elapsed, latencies = await engine_run(url, args.events, args.members)
    backend = url.split(":", 1)[0]
    q = statistics.quantiles(latencies, n=100)
    print(f"backend: {backend}; {args.events} events from {args.members} members")
    print(f"floor (bare SQL, 1 tx/event): {args.events / floor:8.0f} events/s")
    print(
        f"engine (full path)          : {args.events / elapsed:8.0f} events/s "
        f"= {floor / elapsed:.2f} of the floor"
    )
    print(
        f"accept latency (stored, safe to ack): p50 {q[49] * 1000:.1f} ms, "
        f"p95 {q[94] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
