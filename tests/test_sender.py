"""The sender: order per chat, replies first, retries, leases, and the real Telegram path.

Most tests use a recording channel that fails on demand and a movable clock for the
database times (not-before, leases); pacing runs in real time, so the settings here
lift the per-chat spacing and the channel rate unless a test is about them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.channels import DeliveryError, Rejected, RetryLater, Transient
from bot.cli import app as cli
from bot.config import Settings
from bot.messages import Channel, Outgoing
from bot.sandbox.fake_telegram import FakeTelegram, TelegramLimits
from bot.sender import OutboxSender, default_sender_id
from bot.telegram import TelegramChannel
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import ChannelIdentity, OutboxMessage, OutboxStatus, PersonStatus
from storage.outbox import BULK, INTERACTIVE
from storage.uow import unit_of_work
from tests.support import MovableClock, RecordingChannel

LEASE = 60


@dataclass
class ScriptedChannel(RecordingChannel):
    """A recording channel that raises the errors queued for a chat, one per call."""

    script: dict[str, list[DeliveryError]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def fail(self, chat_id: str, *errors: DeliveryError) -> None:
        self.script.setdefault(chat_id, []).extend(errors)

    async def deliver(self, out: Outgoing) -> None:
        self.calls.append(out.chat_id)
        queued = self.script.get(out.chat_id)
        if queued:
            raise queued.pop(0)
        await super().deliver(out)

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [o.text for o in self.delivered if chat_id is None or o.chat_id == chat_id]


def fast_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "telegram_rate_per_second": 1000.0,
        "telegram_private_chat_interval": 0.0,
        "outbox_max_attempts": 3,
        "outbox_lease_seconds": LEASE,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``condition``: the recording channel has no event to wait on."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


@dataclass
class Outbox:
    db: Database
    clock: MovableClock
    channel: ScriptedChannel
    sender: OutboxSender
    url: str

    async def add(
        self,
        chat_id: str,
        text: str,
        *,
        priority: int = BULK,
        category: str = "broadcast",
        delay: float = 0.0,
    ) -> None:
        now = self.clock()
        async with unit_of_work(self.db) as uow:
            await uow.outbox.add(
                "telegram",
                Outgoing(kind="send", chat_id=chat_id, text=text),
                now=now,
                priority=priority,
                category=category,
                dedupe_key=f"{category}:{chat_id}:{text}" if priority >= BULK else None,
                not_before=now + timedelta(seconds=delay) if delay else None,
            )
            await uow.commit()

    async def rows(self) -> list[OutboxMessage]:
        async with unit_of_work(self.db) as uow:
            result = await uow.session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
            return list(result.all())

    async def statuses(self) -> dict[str, str]:
        return {r.payload["text"]: r.status for r in await self.rows()}

    async def claim_as(self, sender_id: str) -> list[int]:
        async with unit_of_work(self.db) as uow:
            claim = await uow.outbox.claim(
                "telegram",
                sender_id,
                now=self.clock(),
                lease=timedelta(seconds=LEASE),
                limit=100,
            )
            await uow.commit()
        return [r.id for r in claim.rows if r.id is not None]


@pytest.fixture
async def outbox(database_url: str, clock: MovableClock) -> AsyncIterator[Outbox]:
    db = Database(database_url)
    channel = ScriptedChannel(Channel.TELEGRAM)
    sender = OutboxSender(
        db, {"telegram": channel}, fast_settings(database_url), clock, sender_id="sender-a"
    )
    yield Outbox(db, clock, channel, sender, database_url)
    await sender.close()
    await db.dispose()


async def test_rows_of_a_chat_go_out_in_order(outbox: Outbox) -> None:
    for i in range(3):
        await outbox.add("1", f"a{i}")
        await outbox.add("2", f"b{i}")
    await outbox.sender.drain()
    assert outbox.channel.texts("1") == ["a0", "a1", "a2"]
    assert outbox.channel.texts("2") == ["b0", "b1", "b2"]
    assert set((await outbox.statuses()).values()) == {OutboxStatus.SENT}


async def test_a_row_waiting_for_a_retry_holds_back_its_chat_only(outbox: Outbox) -> None:
    outbox.channel.fail("1", RetryLater(5))
    for i in range(3):
        await outbox.add("1", f"a{i}")
    await outbox.add("2", "b0")
    await outbox.sender.drain()
    assert outbox.channel.texts() == ["b0"]
    [first, *_] = await outbox.rows()
    assert first.status == OutboxStatus.PENDING and first.claimed_by is None  # released
    assert first.not_before == outbox.clock() + timedelta(seconds=5)
    await outbox.add("1", "a3")  # a new reply to the chat waits its turn too
    await outbox.sender.drain()
    assert outbox.channel.texts("1") == []
    outbox.clock.advance(seconds=5)
    await outbox.sender.drain()
    assert outbox.channel.texts("1") == ["a0", "a1", "a2", "a3"]


async def test_a_row_scheduled_for_later_does_not_hold_back_its_chat(outbox: Outbox) -> None:
    await outbox.add("1", "reminder", delay=3600)
    await outbox.add("1", "reply", priority=INTERACTIVE, category="reply")
    await outbox.sender.drain()
    assert outbox.channel.texts() == ["reply"]
    outbox.clock.advance(hours=1)
    await outbox.sender.drain()
    assert outbox.channel.texts() == ["reply", "reminder"]


async def test_replies_are_claimed_and_sent_before_bulk(outbox: Outbox) -> None:
    for i in range(20):
        await outbox.add(str(100 + i), f"bulk{i}")
    await outbox.add("7", "reply", priority=INTERACTIVE, category="reply")
    await outbox.sender.drain()
    assert outbox.channel.texts()[0] == "reply"
    assert len(outbox.channel.delivered) == 21


async def test_a_reply_overtakes_bulk_already_waiting_for_the_channel(
    database_url: str, clock: MovableClock
) -> None:
    db = Database(database_url)
    channel = ScriptedChannel(Channel.TELEGRAM)
    settings = fast_settings(database_url, telegram_rate_per_second=20.0)
    sender = OutboxSender(db, {"telegram": channel}, settings, clock, sender_id="paced")
    box = Outbox(db, clock, channel, sender, database_url)
    try:
        for i in range(40):
            await box.add(str(100 + i), f"bulk{i}")
        running = asyncio.create_task(sender.run())
        await until(lambda: len(channel.delivered) >= 5)
        await box.add("7", "reply", priority=INTERACTIVE, category="reply")
        sender.wake()
        await until(lambda: "reply" in channel.texts())
        # Bulk goes at 20/s: the reply went out within a few slots, not after the 35 left.
        assert channel.texts().index("reply") < 15
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    finally:
        await sender.close()
        await db.dispose()


async def test_network_errors_are_retried_with_backoff_then_dead(outbox: Outbox) -> None:
    outbox.channel.fail("1", Transient("502 Bad Gateway"), Transient("timeout"))
    await outbox.add("1", "hello")
    await outbox.sender.drain()
    [row] = await outbox.rows()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "502 Bad Gateway")
    assert row.not_before == outbox.clock() + timedelta(seconds=2)
    outbox.clock.advance(seconds=2)
    await outbox.sender.drain()
    [row] = await outbox.rows()
    assert row.attempts == 2 and row.not_before == outbox.clock() + timedelta(seconds=4)
    outbox.clock.advance(seconds=4)
    await outbox.sender.drain()
    assert outbox.channel.texts() == ["hello"]

    outbox.channel.fail("2", *[Transient("503")] * 3)
    await outbox.add("2", "doomed")
    for _ in range(3):
        await outbox.sender.drain()
        outbox.clock.advance(seconds=10)
    doomed = (await outbox.rows())[-1]
    assert (doomed.status, doomed.attempts, doomed.last_error) == ("dead", 3, "503")
    assert outbox.channel.calls.count("2") == 3


async def test_a_rejected_message_is_dead_at_once(outbox: Outbox) -> None:
    outbox.channel.fail("1", Rejected("Bad Request: message is too long"))
    await outbox.add("1", "x" * 10)
    await outbox.add("1", "next")
    await outbox.sender.drain()
    assert await outbox.statuses() == {"x" * 10: "dead", "next": "sent"}


async def test_dead_messages_are_sent_again_from_the_cli(outbox: Outbox) -> None:
    outbox.channel.fail("1", *[Transient("503")] * 3)
    await outbox.add("1", "hello")
    for _ in range(3):
        await outbox.sender.drain()
        outbox.clock.advance(seconds=10)
    [row] = await outbox.rows()
    assert row.status == OutboxStatus.DEAD

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--database-url", outbox.url, "outbox", *args])
        return result.exit_code, result.output

    code, shown = await asyncio.to_thread(run, "status")
    assert code == 0 and "503" in shown and str(row.id) in shown
    code, _ = await asyncio.to_thread(run, "retry")
    assert code == 1  # which ones?
    code, _ = await asyncio.to_thread(run, "retry", "--id", str(row.id))
    assert code == 0
    [row] = await outbox.rows()
    assert (row.status, row.attempts) == ("pending", 0)
    # The CLI used the real clock: make sure the test clock is past it.
    outbox.clock.now = max(outbox.clock.now, datetime.now(UTC)) + timedelta(seconds=1)
    await outbox.sender.drain()
    assert outbox.channel.texts() == ["hello"]


async def test_a_blocked_chat_fails_fast_and_its_account_is_unreachable(outbox: Outbox) -> None:
    async with unit_of_work(outbox.db) as uow:
        person = await uow.people.add("Lê Thị Hoa", "vi", PersonStatus.ACTIVE)
        await uow.people.add_identity(person, "telegram", "1", "1", outbox.clock())
        await uow.commit()
    outbox.channel.blocked.add("1")
    for i in range(3):
        await outbox.add("1", f"a{i}")
    await outbox.add("2", "b0")
    await outbox.sender.drain()
    assert outbox.channel.calls.count("1") == 1  # the later rows never reached the platform
    assert await outbox.statuses() == {
        "a0": "unreachable",
        "a1": "unreachable",
        "a2": "unreachable",
        "b0": "sent",
    }
    await outbox.add("1", "reminder")  # queued later: the account is known to be blocked
    await outbox.sender.drain()
    assert outbox.channel.calls.count("1") == 1
    async with unit_of_work(outbox.db) as uow:
        identity = (await uow.session.exec(select(ChannelIdentity))).one()
        assert not identity.reachable and identity.blocked_at is not None


async def test_a_crashed_senders_rows_are_taken_over_after_the_lease(outbox: Outbox) -> None:
    for i in range(3):
        await outbox.add(str(i), f"m{i}")
    await outbox.add("0", "m0-second")
    assert len(await outbox.claim_as("crashed")) == 3  # the first row of each chat
    await outbox.sender.drain()
    assert outbox.channel.delivered == []  # their leases are still running
    outbox.clock.advance(seconds=LEASE + 1)
    await outbox.sender.drain()
    assert sorted(outbox.channel.texts()) == ["m0", "m0-second", "m1", "m2"]
    assert outbox.channel.texts("0") == ["m0", "m0-second"]


async def test_rows_of_a_dead_sender_on_this_machine_are_taken_over_at_once(
    outbox: Outbox,
) -> None:
    """After kill -9 and a restart (a new process, a new sender id) nothing waits for the
    lease: the dead process is gone, so its rows are free. A live one keeps its rows."""
    dead = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await dead.wait()
    machine = default_sender_id().partition(":")[0]
    await outbox.add("1", "held by the dead")
    assert await outbox.claim_as(f"{machine}:{dead.pid}:cafe01")
    await outbox.add("2", "held by a live one")
    assert await outbox.claim_as(f"{machine}:{os.getppid()}:cafe02")
    await outbox.add("3", "held elsewhere")
    assert await outbox.claim_as(f"elsewhere@0123456789ab:{dead.pid}:cafe03")
    restarted = OutboxSender(
        outbox.db, {"telegram": outbox.channel}, fast_settings(outbox.url), outbox.clock
    )
    await restarted.drain()
    assert outbox.channel.texts() == ["held by the dead"]
    outbox.clock.advance(seconds=LEASE + 1)
    await restarted.drain()
    await restarted.close()
    assert sorted(outbox.channel.texts()) == [
        "held by a live one",
        "held by the dead",
        "held elsewhere",
    ]


async def test_a_sender_never_sends_a_row_it_lost(database_url: str, clock: MovableClock) -> None:
    db = Database(database_url)
    channel = ScriptedChannel(Channel.TELEGRAM)
    # One a second: the second row is still waiting for its turn, well away from the
    # instant between the lease check and the send, when the test takes the leases away.
    settings = fast_settings(database_url, telegram_rate_per_second=1.0)
    sender = OutboxSender(db, {"telegram": channel}, settings, clock, sender_id="slow")
    box = Outbox(db, clock, channel, sender, database_url)
    try:
        for i in range(6):
            await box.add(str(i), f"m{i}")
        draining = asyncio.create_task(sender.drain())
        await until(lambda: bool(channel.delivered))
        # Let the first burst go out: the leases are taken while the rest wait for a turn
        # (a second away), not in the instant between a row's lease check and its send.
        sent = -1
        while sent != len(channel.delivered):
            sent = len(channel.delivered)
            await asyncio.sleep(0.3)
        # The rest wait for their turn (1/s); meanwhile their leases end and another
        # sender takes them.
        clock.advance(seconds=LEASE + 1)
        taken = await box.claim_as("other")
        await draining
        texts = {row.id: row.payload["text"] for row in await box.rows()}
        assert len(taken) >= 3
        assert not {texts[row_id] for row_id in taken} & set(channel.texts())
        assert len(taken) + len(channel.delivered) == 6
    finally:
        await sender.close()
        await db.dispose()


async def test_close_and_restart_give_claims_back(outbox: Outbox) -> None:
    await outbox.add("1", "m")
    assert await outbox.claim_as("sender-a")  # as if a previous run of sender-a died
    await outbox.sender.drain()  # the same id on start: its old claims are free at once
    assert outbox.channel.texts() == ["m"]

    await outbox.add("2", "n")
    assert await outbox.claim_as("sender-b")
    other = OutboxSender(outbox.db, {}, fast_settings(outbox.url), outbox.clock, sender_id="b")
    await other.close()  # closing "b" leaves "sender-b"'s claim alone
    assert (await outbox.rows())[-1].claimed_by == "sender-b"


async def test_200_bulk_messages_to_the_fake_telegram_without_a_429(tmp_path: Path) -> None:
    """The real adapter (aiogram) against the fake with its limits on, at 50/s."""
    rate = 50.0
    fake = FakeTelegram("4242:PACING", limits=True, rate_limits=TelegramLimits(rate, rate))
    await fake.start()
    chats = [str(10_000 + i) for i in range(200)]
    for chat in chats:
        fake.add_user(int(chat))

    async def ignore(_: object) -> bool:
        return True

    telegram = TelegramChannel(fake.token, fake.base_url, ignore, None)
    url = f"sqlite+aiosqlite:///{tmp_path / 'pacing.sqlite3'}"
    await upgrade_async(url)
    db = Database(url)
    try:
        clock = MovableClock()
        settings = Settings(_env_file=None, telegram_rate_per_second=rate)  # type: ignore[call-arg]
        sender = OutboxSender(db, {"telegram": telegram}, settings, clock)
        box = Outbox(db, clock, ScriptedChannel(Channel.TELEGRAM), sender, "")
        for chat in chats:
            await box.add(chat, "Thông báo: sinh hoạt chi đoàn tối nay 19:30")
        stamps: list[float] = []

        async def watch() -> None:
            seen = 0
            while True:
                if fake.sends_accepted > seen:
                    seen = fake.sends_accepted
                    stamps.append(time.monotonic())
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        await sender.drain()
        watcher.cancel()
        await sender.close()
        assert fake.answers_429 == 0
        assert fake.sends_accepted == 200 and max(fake.sends_per_chat.values()) == 1
        achieved = (fake.sends_accepted - 1) / (stamps[-1] - stamps[0])
        print(f"achieved {achieved:.1f}/s of {rate:.0f}/s")
        assert achieved >= 0.9 * rate, f"{achieved:.1f}/s"
    finally:
        await telegram.close()
        await db.dispose()
        await fake.stop()
