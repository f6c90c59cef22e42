"""From inbox to outbox: each stored event is handled in one transaction.

Events of one person in one chat are handled in order, by one task at a time;
different people are handled concurrently. A failure rolls the whole event back
and it is tried again with a growing pause; after ``inbox_max_attempts`` the person
is told something went wrong and the event is set aside, so one poisoned update
cannot block everything behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.clock import Clock
from bot.config import Settings
from bot.engine import ConversationEngine
from bot.i18n import translate
from bot.messages import Incoming, Outgoing
from storage.db import Database
from storage.models import InboxStatus
from storage.uow import unit_of_work

log = logging.getLogger(__name__)


class EventProcessor:
    def __init__(
        self,
        db: Database,
        engine: ConversationEngine,
        settings: Settings,
        clock: Clock,
        on_outbox: Callable[[], None],
    ) -> None:
        self.db = db
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.on_outbox = on_outbox
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._retry_base = 0.5

    async def accept(self, incoming: Incoming) -> bool:
        """Store an update durably. Returns False for a repeat. Safe to acknowledge after."""
        async with unit_of_work(self.db) as uow:
            fresh = await uow.inbox.accept(incoming)
            await uow.commit()
        if fresh:
            self.kick(incoming.user_key)
        else:
            log.info("repeated update %s/%s ignored", incoming.channel, incoming.update_key)
        return fresh

    def kick(self, user_key: str) -> None:
        """Make sure a worker drains this person's pending events."""
        task = self._workers.get(user_key)
        if task is None or task.done():
            self._workers[user_key] = asyncio.create_task(self._drain(user_key))

    async def resume(self) -> int:
        """After a restart: pick up events stored but not finished (a crash mid-way)."""
        async with unit_of_work(self.db) as uow:
            keys = await uow.inbox.pending_user_keys()
        for key in keys:
            self.kick(key)
        return len(keys)

    async def idle(self) -> None:
        """Wait until every worker has drained (tests and shutdown)."""
        while tasks := [t for t in self._workers.values() if not t.done()]:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def _drain(self, user_key: str) -> None:
        while await self._process_next(user_key):
            pass
        self._workers.pop(user_key, None)

    async def _process_next(self, user_key: str) -> bool:
        """Handle the oldest pending event of ``user_key``; False when none is left."""
        try:
            async with unit_of_work(self.db) as uow:
                event = await uow.inbox.next_pending(user_key)
                if event is None:
                    return False
                event_id = event.id
                assert event_id is not None and event.payload is not None
                incoming = Incoming.from_json(event.payload)
                now = self.clock()
                replies = await self.engine.handle(uow, incoming, now)
                for reply in replies:
                    await uow.outbox.add(incoming.channel.value, reply, now=now)
                await uow.inbox.finish(event, InboxStatus.DONE, now)
                await uow.commit()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event for %s failed", _redact(user_key))
            await self._failed(user_key)
            return True
        if replies:
            self.on_outbox()
        return True

    async def _failed(self, user_key: str) -> None:
        """Count the attempt; give up (and apologise) once attempts run out."""
        try:
            async with unit_of_work(self.db) as uow:
                event = await uow.inbox.next_pending(user_key)
                if event is None or event.id is None:
                    return
                attempts = await uow.inbox.count_attempt(event.id)
                if attempts >= self.settings.inbox_max_attempts:
                    incoming = Incoming.from_json(event.payload or {})
                    sorry = Outgoing(
                        kind="send",
                        chat_id=incoming.chat_id,
                        text=translate(self.settings.default_locale, "error.internal"),
                    )
                    now = self.clock()
                    await uow.outbox.add(incoming.channel.value, sorry, now=now)
                    await uow.inbox.finish(event, InboxStatus.FAILED, now)
                await uow.commit()
            if attempts >= self.settings.inbox_max_attempts:
                self.on_outbox()  # the apology is committed: send it now
        except Exception:
            log.exception("could not record the failure; retrying later")
            attempts = 1
        await asyncio.sleep(min(self._retry_base * 2 ** max(attempts - 1, 0), 30.0))


def _redact(user_key: str) -> str:
    channel, _, rest = user_key.partition(":")
    return f"{channel}:…{rest[-4:]}"
