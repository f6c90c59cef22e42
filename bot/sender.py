"""Sends outbox rows through the channel adapters and records what happened.

Rows of one chat go out in order, one at a time; chats are served concurrently.
A row is marked sent right after the platform accepted it, so a crash can at worst
repeat the one message that was in flight, never drop one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from bot.channels import ChannelAdapter, Rejected, RetryLater, Transient, Unreachable
from bot.clock import Clock
from bot.config import Settings
from bot.messages import Outgoing
from storage.db import Database
from storage.models import ChannelIdentity, OutboxMessage, OutboxStatus
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

BATCH = 200
IDLE_POLL_SECONDS = 1.0


class OutboxSender:
    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, ChannelAdapter],
        settings: Settings,
        clock: Clock,
    ) -> None:
        self.db = db
        self.adapters = adapters
        self.settings = settings
        self.clock = clock
        self._wake = asyncio.Event()
        self._busy_chats: set[tuple[str, str]] = set()
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                started = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox poll failed")
                started = 0
            if started == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
            self._wake.clear()

    async def send_due(self) -> int:
        """Start sending every due row whose chat is free. Returns how many chats started."""
        async with unit_of_work(self.db) as uow:
            rows = await uow.outbox.due(self.clock(), BATCH, self._in_flight)
        by_chat: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
        for row in rows:
            by_chat[(row.channel, row.chat_id)].append(row)
        started = 0
        for chat, chat_rows in by_chat.items():
            if chat in self._busy_chats or chat[0] not in self.adapters:
                continue
            self._busy_chats.add(chat)
            self._in_flight.update(r.id for r in chat_rows if r.id is not None)
            task = asyncio.create_task(self._send_chat(chat, chat_rows))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def drain(self) -> None:
        """Send until nothing due is left (tests, shutdown)."""
        while await self.send_due() or self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _send_chat(self, chat: tuple[str, str], rows: list[OutboxMessage]) -> None:
        try:
            for row in rows:
                if not await self._send_one(row):
                    break  # keep the chat's order: later rows wait for this one
        finally:
            self._busy_chats.discard(chat)
            self._in_flight.difference_update(r.id for r in rows if r.id is not None)
            self.wake()

    async def _send_one(self, row: OutboxMessage) -> bool:
        """Deliver one row; True when the next row of this chat may follow."""
        adapter = self.adapters[row.channel]
        out = Outgoing.from_json(row.payload)
        try:
            await adapter.deliver(out)
        except RetryLater as exc:
            await self._update(row, not_before_in=exc.retry_after, error=str(exc))
            return False
        except Unreachable as exc:
            await self._unreachable(row, str(exc))
            return True
        except Rejected as exc:
            log.warning("outbox %s rejected: %s", row.id, exc)
            await self._update(row, status=OutboxStatus.DEAD, error=str(exc))
            return True
        except (Transient, OSError, TimeoutError) as exc:
            attempts = row.attempts + 1
            if attempts >= self.settings.outbox_max_attempts:
                await self._update(row, status=OutboxStatus.DEAD, attempts=attempts, error=str(exc))
                return True
            await self._update(
                row, attempts=attempts, not_before_in=min(2.0**attempts, 300.0), error=str(exc)
            )
            return False
        await self._update(row, status=OutboxStatus.SENT)
        return True

    async def _update(
        self,
        row: OutboxMessage,
        *,
        status: OutboxStatus | None = None,
        attempts: int | None = None,
        not_before_in: float | None = None,
        error: str | None = None,
    ) -> None:
        now = self.clock()
        values: dict[str, object] = {}
        if status is not None:
            values["status"] = status.value
            if status == OutboxStatus.SENT:
                values["sent_at"] = now
        if attempts is not None:
            values["attempts"] = attempts
        if not_before_in is not None:
            values["not_before"] = now + timedelta(seconds=not_before_in)
        if error is not None:
            values["last_error"] = error[:500]
        async with unit_of_work(self.db) as uow:
            await uow.session.execute(
                update(OutboxMessage).where(col(OutboxMessage.id) == row.id).values(**values)
            )
            await uow.commit()

    async def _unreachable(self, row: OutboxMessage, error: str) -> None:
        now = self.clock()
        async with unit_of_work(self.db) as uow:
            await uow.session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id)
                .values(status=OutboxStatus.UNREACHABLE.value, last_error=error[:500])
            )
            await uow.session.execute(
                update(ChannelIdentity)
                .where(
                    col(ChannelIdentity.channel) == row.channel,
                    col(ChannelIdentity.chat_id) == row.chat_id,
                )
                .values(reachable=False, blocked_at=now)
            )
            await uow.commit()
