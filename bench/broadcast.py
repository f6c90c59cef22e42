"""How fast and how exactly the sender delivers a broadcast through Telegram's limits.

Against the fake Telegram with its limits on (30 messages/s for the bot, 1/s per chat,
429 with retry_after beyond), in the same run:

1. **limit**: the channel limit itself (``telegram_rate_per_second``);
2. **bare loop**: a plain aiogram ``Bot`` sending one message per chat in a loop as fast
   as the fake lets it, sleeping ``retry_after`` on each 429 — what a naive loop gets;
3. **engine**: the real ``OutboxSender`` in a child process draining one outbox row per
   person (category "broadcast", with dedupe keys), 5% of the people having blocked the
   bot;
4. **kill -9**: the same, with the child SIGKILLed halfway and a new one started, as a
   real restart would: a new process with a new sender id, on the same machine, so it
   sees the dead one's process is gone and takes its rows over at once (a sender on
   another machine would wait for their lease to end; tests/test_sender.py covers that).

For each run: messages/s while sending, 429s, rows lost (neither sent nor unreachable),
messages received twice, rows marked unreachable.

    .venv/bin/python -m bench.broadcast [--chats 3000] [--database-url URL]

A database URL must point at an empty database (the benchmark writes and deletes rows);
by default each run gets a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from sqlalchemy import delete, func
from sqlmodel import col, select

from bot.clock import system_clock
from bot.config import Settings
from bot.messages import Outgoing
from bot.sandbox.fake_telegram import FakeTelegram
from bot.sender import OutboxSender
from bot.telegram import TelegramChannel
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import ChannelIdentity, OutboxMessage, OutboxStatus, Person, PersonStatus
from storage.outbox import BULK
from storage.uow import unit_of_work

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "777000:BENCH-broadcast"
FIRST_USER = 500_000
BLOCKED_EVERY = 20  # 5% of the people blocked the bot
TEXT = "Thông báo: Đại hội Chi đoàn ấp 1 lúc 19:30 thứ Bảy tại nhà văn hoá."


# --- the child: one sender process ------------------------------------------------------


async def sender_process(database_url: str, api_url: str) -> None:
    """Run the real sender until no row is pending, then exit."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
    )

    async def ignore(_: object) -> bool:
        return True

    telegram = TelegramChannel(TOKEN, api_url, ignore, None)
    db = Database(database_url)
    sender = OutboxSender(
        db,
        {"telegram": telegram},
        settings,
        system_clock,
    )
    running = asyncio.create_task(sender.run())
    try:
        while await pending(db):
            if running.done():  # the sender stopped: show why
                await running
            await asyncio.sleep(0.5)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await sender.close()
        await telegram.close()
        await db.dispose()


async def pending(db: Database) -> int:
    async with unit_of_work(db) as uow:
        counts = await uow.outbox.counts()
    return counts.get(OutboxStatus.PENDING.value, 0)


# --- the parent: people, fake, runs -----------------------------------------------------


@dataclass
class Result:
    name: str
    messages: int  # accepted by the fake
    rate: float  # accepted messages per second, first to last
    answers_429: int
    wall: float  # seconds from start (child start-up included) to the last row settled
    lost: int | None = None
    duplicated: int | None = None
    unreachable: int | None = None
    note: str = ""


async def refuse_used_database(url: str) -> None:
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            used = (await uow.session.exec(select(func.count()).select_from(Person))).one()
    finally:
        await db.dispose()
    if used:
        raise SystemExit("the benchmark needs an empty database (it writes and deletes rows)")


async def seed(url: str, chats: int) -> None:
    """One person per chat, with a Telegram account, and one broadcast row each."""
    db = Database(url)
    now = system_clock()
    try:
        async with unit_of_work(db) as uow:
            for i in range(chats):
                user = str(FIRST_USER + i)
                person = await uow.people.add(f"Đoàn viên {i}", "vi", PersonStatus.ACTIVE)
                await uow.people.add_identity(person, "telegram", user, user, now)
                await uow.outbox.add(
                    "telegram",
                    Outgoing(kind="send", chat_id=user, text=TEXT),
                    now=now,
                    priority=BULK,
                    category="broadcast",
                    dedupe_key=f"broadcast:bench:{person.id}:telegram",
                    person_id=person.id,
                )
            await uow.commit()
    finally:
        await db.dispose()


async def clear(url: str) -> None:
    """Delete what :func:`seed` wrote (the database was empty before)."""
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            for table in (OutboxMessage, ChannelIdentity, Person):
                await uow.session.exec(delete(table))
            await uow.commit()
    finally:
        await db.dispose()


@dataclass
class Outcome:
    not_settled: int  # rows neither sent nor unreachable
    unreachable: int  # rows marked unreachable
    blocked_accounts: int  # accounts marked unreachable
    sent_chats: set[str]  # chats whose row is marked sent


async def outcome(url: str) -> Outcome:
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            counts = await uow.outbox.counts()
            marked = await uow.session.exec(
                select(OutboxMessage.chat_id).where(
                    col(OutboxMessage.status) == OutboxStatus.SENT.value
                )
            )
            blocked = await uow.session.exec(
                select(func.count())
                .select_from(ChannelIdentity)
                .where(col(ChannelIdentity.reachable).is_(False))
            )
            return Outcome(
                not_settled=sum(counts.values())
                - counts.get(OutboxStatus.SENT.value, 0)
                - counts.get(OutboxStatus.UNREACHABLE.value, 0),
                unreachable=counts.get(OutboxStatus.UNREACHABLE.value, 0),
                blocked_accounts=blocked.one(),
                sent_chats=set(marked.all()),
            )
    finally:
        await db.dispose()


class Meter:
    """Samples the fake's accepted-send counter: when the first and the last one came."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.first: float | None = None
        self.last: float | None = None
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        seen = 0
        while True:
            count = self.fake.sends_accepted
            if count > seen:
                now = time.monotonic()
                self.first = now if self.first is None else self.first
                self.last, seen = now, count
            await asyncio.sleep(0.002)

    async def stop(self) -> float:
        """Messages per second between the first and the last accepted message."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if self.first is None or self.last is None or self.last <= self.first:
            return 0.0
        return (self.fake.sends_accepted - 1) / (self.last - self.first)


async def start_fake(chats: int) -> FakeTelegram:
    """A fresh fake (full buckets) that knows every chat; every 20th person blocked the bot."""
    fake = FakeTelegram(TOKEN, limits=True)
    await fake.start()
    for i in range(chats):
        fake.add_user(FIRST_USER + i)
        if i % BLOCKED_EVERY == BLOCKED_EVERY - 1:
            fake.block(FIRST_USER + i)
    return fake


async def spawn(url: str, fake: FakeTelegram) -> asyncio.subprocess.Process:
    """The real sender in a process of its own, with the default (per-process) sender id."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.broadcast",
        "--sender",
        "--database-url",
        url,
        "--api-url",
        fake.base_url,
        cwd=ROOT,
    )


async def kill_halfway(child: asyncio.subprocess.Process, fake: FakeTelegram, halfway: int) -> None:
    """SIGKILL the sender once ``halfway`` messages were accepted: no clean-up at all."""
    while fake.sends_accepted < halfway:
        if child.returncode is not None:
            raise SystemExit("the sender finished before it could be killed")
        await asyncio.sleep(0.001)
    child.send_signal(signal.SIGKILL)
    await child.wait()


async def next_message(child: asyncio.subprocess.Process, fake: FakeTelegram, seen: int) -> None:
    """Wait until the fake accepts a message beyond the first ``seen``."""
    while fake.sends_accepted <= seen:
        if child.returncode is not None:
            return
        await asyncio.sleep(0.01)


async def engine_run(url: str, chats: int, *, kill: bool) -> Result:
    await seed(url, chats)
    fake = await start_fake(chats)
    meter = Meter(fake)
    started = time.monotonic()
    note = ""
    try:
        child = await spawn(url, fake)
        if kill:
            await kill_halfway(child, fake, (chats - chats // BLOCKED_EVERY) // 2)
            killed_at, at = time.monotonic(), fake.sends_accepted
            child = await spawn(url, fake)
            await next_message(child, fake, at)
            note = (
                f"killed after {at} messages; the new sender's first message came "
                f"{time.monotonic() - killed_at:.1f} s later (process start-up)"
            )
        await child.wait()
        wall = time.monotonic() - started
        rate = await meter.stop()
        end = await outcome(url)
        received = {str(chat) for chat in fake.sends_per_chat}
        never_arrived = len(end.sent_chats - received)  # marked sent, not on the "phone"
        if end.blocked_accounts != end.unreachable:
            note += f" ({end.blocked_accounts} accounts marked unreachable)"
        return Result(
            name="engine, kill -9 halfway" if kill else "engine",
            messages=fake.sends_accepted,
            rate=rate,
            answers_429=fake.answers_429,
            wall=wall,
            lost=end.not_settled + never_arrived,
            duplicated=sum(count - 1 for count in fake.sends_per_chat.values() if count > 1),
            unreachable=end.unreachable,
            note=note.strip(),
        )
    finally:
        await fake.stop()
        await clear(url)


async def bare_loop(chats: int) -> Result:
    """A plain aiogram Bot sending sequentially: on 429 it sleeps retry_after and retries."""
    fake = await start_fake(chats)
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    meter = Meter(fake)
    started = time.monotonic()
    try:
        for i in range(chats):
            while True:
                try:
                    await bot.send_message(FIRST_USER + i, TEXT)
                    break
                except TelegramForbiddenError:
                    break
                except TelegramRetryAfter as exc:
                    await asyncio.sleep(exc.retry_after)
        wall = time.monotonic() - started
        rate = await meter.stop()
        return Result(
            name=f"bare aiogram loop ({chats} chats)",
            messages=fake.sends_accepted,
            rate=rate,
            answers_429=fake.answers_429,
            wall=wall,
        )
    finally:
        await bot.session.close()
        await fake.stop()


def report(results: list[Result], limit: float, title: str) -> str:
    lines = [
        title,
        "",
        "| run | messages | msg/s | of the limit | 429s | lost | duplicated | unreachable "
        "| wall time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| limit (telegram_rate_per_second) | | {limit:.1f} | 1.00 | | | | | |",
    ]

    def cell(value: int | None) -> str:
        return "" if value is None else str(value)

    for r in results:
        lines.append(
            f"| {r.name} | {r.messages} | {r.rate:.1f} | {r.rate / limit:.2f} | {r.answers_429} "
            f"| {cell(r.lost)} | {cell(r.duplicated)} | {cell(r.unreachable)} | {r.wall:.0f} s |"
        )
    notes = [f"- {r.name}: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", *notes] if notes else []))


async def main(args: argparse.Namespace) -> None:
    limit = Settings(_env_file=None).telegram_rate_per_second  # type: ignore[call-arg]
    backend = (args.database_url or "sqlite").split(":", 1)[0].split("+", 1)[0]
    title = (
        f"broadcast to {args.chats} Telegram chats ({args.chats // BLOCKED_EVERY} blocked), "
        f"fake Telegram with limits on, {backend}"
    )
    # Long enough that the fake's initial burst of 30 does not flatter the loop.
    baseline = args.baseline_chats or min(args.chats, max(300, args.chats // 10))
    results = [await bare_loop(baseline)]
    print(f"{results[-1].name}: {results[-1].rate:.1f} msg/s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kill in (False, True):
            url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / f'run{kill:d}.sqlite3'}"
            await upgrade_async(url)
            await refuse_used_database(url)
            results.append(await engine_run(url, args.chats, kill=kill))
            print(f"{results[-1].name}: {results[-1].rate:.1f} msg/s", flush=True)
    print()
    print(report(results, limit, title))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chats", type=int, default=3000, help="people, one chat each")
    parser.add_argument(
        "--baseline-chats", type=int, default=0, help="chats for the bare loop (default 300)"
    )
    parser.add_argument("--database-url", help="an empty database (default: fresh SQLite)")
    # The child process (internal).
    parser.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if arguments.sender:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(sender_process(arguments.database_url, arguments.api_url))
    else:
        asyncio.run(main(arguments))
