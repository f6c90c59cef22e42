"""Sends outbox rows through the channel adapters, as fast as each platform allows.

One round: claim, wait for a turn, deliver, settle.

* **Claim.** In a short transaction the sender takes, per channel, the first due row of
  each free chat with a lease (:meth:`storage.outbox.OutboxRepository.claim`): replies
  first, then as much bulk as it can send well within the lease. Several senders may
  share one PostgreSQL database; no row is ever held by two of them.
* **Turn.** A row waits for its chat's spacing, then for a slot on its channel, replies
  ahead of bulk (:mod:`bot.pacing`). Leases are renewed while rows wait, and checked
  again right before a row goes out, so a sender never sends a row it lost.
* **Media.** Right before a row with ``media_token`` goes out, its chart or file is loaded
  (:mod:`bot.media`) and its link built under ``settings.public_url``; if the media has
  expired meanwhile, the text goes alone.
* **Settle.** Right after the platform answered, in its own transaction: sent,
  unreachable (403: the chat's later rows fail too, without a call), dead (400, or
  network errors and 5xx past ``outbox_max_attempts``), or back to pending, released,
  to be retried later (429, a network error) — a waiting row holds no lease. A sent
  ``private`` row (it reveals an anonymous answer) keeps no text: see
  :meth:`storage.outbox.OutboxRepository.settle`.

A crash can at worst repeat the one message in flight, never drop one: a row is marked
sent only after the platform accepted it, and a crashed sender's rows are taken over
once their lease runs out (at once by a sender restarted with the same ``sender_id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import itertools
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.channels import ChannelAdapter, Rejected, RetryLater, Transient, Unreachable
from bot.clock import Clock
from bot.config import Settings
from bot.media import MediaLoader, attach
from bot.messages import Outgoing
from bot.pacing import ChannelPacing, limits_for
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from storage.outbox import BULK
from storage.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0
#: Replies claimed in every round even when bulk fills this sender's hands.
REPLY_RESERVE = 50
#: Bulk held at once: what the channel takes in a third of the lease, within these bounds.
MIN_BATCH, MAX_BATCH = 10, 500
#: Network errors and 5xx: wait 2, 4, 8 ... seconds, at most this long, between tries.
MAX_BACKOFF_SECONDS = 300.0
#: How long an outcome is retried against an unavailable database before giving up.
WRITE_PATIENCE_SECONDS = 30.0
#: On close, rows already on their way get this long to be settled.
CLOSE_GRACE_SECONDS = 5.0

Monotonic = Callable[[], float]


def _machine() -> str:
    """Names this kernel boot and process namespace: where process ids can be compared.

    Two senders with the same name run side by side, so one can tell whether the other
    is still alive by its pid (hostname alone is not enough: containers and cloned
    machines share names). Without /proc, every process gets a name of its own.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return secrets.token_hex(6)
    digest = hashlib.sha256(f"{boot}/{namespace}".encode()).hexdigest()[:12]
    return f"{socket.gethostname()[:24]}@{digest}"


def default_sender_id() -> str:
    """``machine:pid:random``: unique per process, and tells a dead neighbour by its pid."""
    return f"{_machine()}:{os.getpid()}:{secrets.token_hex(3)}"


def _dead_neighbour(holder: str, machine: str) -> bool:
    """Whether ``holder`` is a sender of this machine whose process is gone (a crash)."""
    prefix, _, rest = holder.partition(":")
    pid_text, _, _ = rest.partition(":")
    if prefix != machine or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists (another user's process): leave its rows to the lease
    return False


@dataclass
class _Held:
    """A row this sender claimed, and until when the database says it is ours."""

    row: OutboxMessage
    lease_until: datetime
    lost: bool = False

    @property
    def id(self) -> int:
        assert self.row.id is not None
        return self.row.id


class _Turns:
    """Hands out one channel's send slots one at a time: replies first, then bulk, each in
    the order they asked. A single dispatcher per channel keeps hundreds of waiting rows
    from all waking up at every slot."""

    def __init__(self, pacing: ChannelPacing, monotonic: Monotonic) -> None:
        self._pacing = pacing
        self._now = monotonic
        self._queue: list[tuple[int, int, str, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._arrived = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None

    async def wait(self, chat_id: str, *, interactive: bool) -> None:
        """Return once a message to ``chat_id`` may go; the slot is then taken."""
        # Only this chat's one row waits on the chat's spacing, so a plain sleep will do.
        pause = self._pacing.chat_wait(chat_id, self._now(), interactive=interactive)
        if pause > 0:
            await asyncio.sleep(pause)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, (0 if interactive else 1, next(self._order), chat_id, turn))
        self._arrived.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch())
        await turn

    async def _dispatch(self) -> None:
        while self._queue:
            rank, _, chat_id, turn = self._queue[0]
            if turn.done():  # its row stopped waiting (cancelled)
                heapq.heappop(self._queue)
                continue
            now = self._now()
            pause = self._pacing.channel_wait(now, interactive=rank == 0)
            if pause > 0:
                # Sleep until the slot, or until a reply arrives that may go sooner.
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await self._arrived.wait()
                continue
            heapq.heappop(self._queue)
            self._pacing.take(chat_id, now)
            turn.set_result(None)

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)


class OutboxSender:
    """Delivers the outbox of one database; several may run against one PostgreSQL."""

    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, ChannelAdapter],
        settings: Settings,
        clock: Clock,
        *,
        sender_id: str | None = None,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.db = db
        self.adapters = adapters
        self.settings = settings
        self.clock = clock  # database times (not_before, leases)
        self.monotonic = monotonic  # pacing: real elapsed time
        self.sender_id = (sender_id or default_sender_id())[:64]
        self.lease = timedelta(seconds=settings.outbox_lease_seconds)
        # Renew a claim before sending once less than this is left of it.
        self._lease_margin = self.lease / 4
        self._wake = asyncio.Event()
        self._held: dict[int, _Held] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._delivering: set[int] = set()
        self._pacing: dict[str, ChannelPacing] = {}
        self._turns: dict[str, _Turns] = {}
        self._recovered = False
        self._closing = False
        self._next_renewal = -math.inf
        self._media = MediaLoader(db)

    # --- the public surface -------------------------------------------------------------

    def wake(self) -> None:
        """New rows were committed: look for due work now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                started = await self.send_due()
                await self._renew_if_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox round failed")
                started = 0
            if started == 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_POLL_SECONDS):
                        await self._wake.wait()
            self._wake.clear()

    async def send_due(self) -> int:
        """Claim what is due and start sending it. Returns how many rows were taken on."""
        if self._closing:
            return 0
        if not self._recovered:
            await self._recover()
        started = 0
        for channel in list(self.adapters):
            started += await self._claim_round(channel)
        return started

    async def drain(self) -> None:
        """Send until nothing due is left (tests, shutdown)."""
        while await self.send_due() or self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        """Stop: rows still waiting are given back at once; rows on their way are settled."""
        self._closing = True
        for row_id, task in list(self._tasks.items()):
            if row_id not in self._delivering:
                task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=CLOSE_GRACE_SECONDS)
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        for turns in self._turns.values():
            await turns.close()
        try:
            async with unit_of_work(self.db) as uow:
                await uow.outbox.release(self.sender_id)
                await uow.commit()
        except Exception:
            log.warning("could not give back claims on close; they end with their lease")

    def pacing(self, channel: str) -> ChannelPacing:
        """The pacing of ``channel`` (made on first use: adapters may be added late)."""
        pacing = self._pacing.get(channel)
        if pacing is None:
            pacing = self._pacing[channel] = ChannelPacing(limits_for(channel, self.settings))
        return pacing

    # --- claiming ----------------------------------------------------------------------

    def capacity(self, channel: str) -> int:
        """Rows to hold at once: what this sender sends in a third of the lease."""
        pacing = self.pacing(channel)
        per_second = pacing.limits.per_second / max(1, pacing.senders)
        if math.isinf(per_second):
            return MAX_BATCH
        wanted = per_second * self.lease.total_seconds() / 3
        return int(min(MAX_BATCH, max(MIN_BATCH, wanted)))

    def _room(self, channel: str) -> int:
        held = sum(1 for h in self._held.values() if h.row.channel == channel)
        return self.capacity(channel) - held

    async def _claim_round(self, channel: str) -> int:
        now = self.clock()
        async with unit_of_work(self.db) as uow:
            replies = await uow.outbox.claim(
                channel,
                self.sender_id,
                now=now,
                lease=self.lease,
                limit=REPLY_RESERVE,
                interactive_only=True,
            )
            bulk = await uow.outbox.claim(
                channel,
                self.sender_id,
                now=now,
                lease=self.lease,
                limit=self._room(channel) - len(replies.rows),
            )
            await uow.commit()
        self.pacing(channel).senders = bulk.senders
        for row in [*replies.rows, *bulk.rows]:
            self._start(_Held(row, now + self.lease))
        return len(replies.rows) + len(bulk.rows) + replies.unreachable + bulk.unreachable

    def _start(self, held: _Held) -> None:
        self._held[held.id] = held
        task = asyncio.create_task(self._send(held))
        self._tasks[held.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(held.id, None))

    async def _recover(self) -> None:
        """On start, free the rows a previous run of this very sender id held."""
        async with unit_of_work(self.db) as uow:
            released = await uow.outbox.release(self.sender_id)
            await uow.commit()
        self._recovered = True
        if released:
            log.info("took back %d rows held before a restart", released)
        await self._free_dead_neighbours()

    async def _free_dead_neighbours(self) -> None:
        """Free the rows held by senders of this machine whose process is gone (killed,
        crashed): no need to wait for their leases. Senders elsewhere are only ever
        taken over by lease."""
        machine = self.sender_id.partition(":")[0]
        async with unit_of_work(self.db) as uow:
            holders = await uow.outbox.holders(f"{machine}:")
            released = 0
            for holder in holders:
                if holder != self.sender_id and _dead_neighbour(holder, machine):
                    released += await uow.outbox.release(holder)
            await uow.commit()
        if released:
            log.info("took back %d rows held by a sender that died", released)

    # --- leases ------------------------------------------------------------------------

    async def _renew_if_due(self) -> None:
        """Every third of a lease, extend the claims of every row still waiting."""
        moment = self.monotonic()
        if moment < self._next_renewal:
            return
        self._next_renewal = moment + self.lease.total_seconds() / 3
        await self._free_dead_neighbours()
        for pacing in self._pacing.values():
            pacing.forget_idle(moment)
        if not self._held:
            return
        now = self.clock()
        async with unit_of_work(self.db) as uow:
            kept = await uow.outbox.renew(self.sender_id, now=now, lease=self.lease)
            await uow.commit()
        for held in list(self._held.values()):
            if held.id in kept:
                held.lease_until = now + self.lease
            elif held.id not in self._delivering:
                held.lost = True

    async def _still_held(self, held: _Held) -> bool:
        """Whether the row is still ours to send; renews the claim when it is running out."""
        if held.lost:
            return False
        now = self.clock()
        if held.lease_until - now > self._lease_margin:
            return True
        try:
            async with unit_of_work(self.db) as uow:
                kept = await uow.outbox.renew(
                    self.sender_id, now=now, lease=self.lease, ids=[held.id]
                )
                await uow.commit()
        except Exception:
            log.exception("could not renew the claim on outbox %s; not sending it", held.id)
            return False
        if held.id not in kept:
            log.warning("outbox %s was taken over by another sender; not sending it", held.id)
            return False
        held.lease_until = now + self.lease
        return True

    # --- sending -----------------------------------------------------------------------

    async def _send(self, held: _Held) -> None:
        row = held.row
        try:
            adapter = self.adapters.get(row.channel)
            if adapter is None or self._closing:
                return  # the claim is given back by close(), or runs out
            try:
                out = Outgoing.from_json(row.payload)
            except (TypeError, KeyError, ValueError) as exc:
                await self._settle(held, OutboxStatus.DEAD, error=f"bad payload: {exc}")
                return
            # Answering a pressed button is not a message: it uses no budget.
            counted = out.kind != "answer"
            if counted:
                await self._turn(row).wait(row.chat_id, interactive=row.priority < BULK)
            if self._closing or not await self._still_held(held):
                return
            self._delivering.add(held.id)
            await self._deliver(held, adapter, out, counted)
        finally:
            self._delivering.discard(held.id)
            self._held.pop(held.id, None)
            self._after(row)

    def _turn(self, row: OutboxMessage) -> _Turns:
        turns = self._turns.get(row.channel)
        if turns is None:
            turns = self._turns[row.channel] = _Turns(self.pacing(row.channel), self.monotonic)
        return turns

    async def _deliver(
        self, held: _Held, adapter: ChannelAdapter, out: Outgoing, counted: bool
    ) -> None:
        row = held.row
        pacing = self.pacing(row.channel)
        try:
            if not await self._with_media(row, out):
                if counted:
                    pacing.give_back(row.chat_id, self.monotonic())
                await self._settle(held, OutboxStatus.SENT, private=out)
                return
            await adapter.deliver(out)
        except RetryLater as exc:
            pacing.retry_later(self.monotonic(), exc.retry_after)
            await self._retry(held, exc.retry_after, str(exc))
        except Unreachable as exc:
            if counted:
                pacing.give_back(row.chat_id, self.monotonic())
            await self._chat_unreachable(held, str(exc) or "unreachable")
        except Rejected as exc:
            log.warning("outbox %s rejected: %s", row.id, exc)
            if counted:
                pacing.give_back(row.chat_id, self.monotonic())
            await self._settle(held, OutboxStatus.DEAD, error=str(exc))
        except (Transient, OSError, TimeoutError) as exc:
            await self._failed(held, str(exc) or type(exc).__name__)
        except Exception as exc:
            # A bug in an adapter must not lose the row nor retry it forever.
            log.exception("outbox %s: unexpected error", row.id)
            await self._failed(held, f"{type(exc).__name__}: {exc}")
        else:
            await self._settle(held, OutboxStatus.SENT, private=out)

    async def _with_media(self, row: OutboxMessage, out: Outgoing) -> bool:
        """Load the row's chart or file into ``out``; False when nothing is left to send.

        Loaded here, after the row's turn came, so hundreds of waiting rows hold no bytes.
        """
        if not out.media_token:
            return True
        if await attach(out, self._media, self.clock(), self.settings.public_url):
            return True
        if out.text or out.choices:
            log.info("outbox %s: its media expired; sending the text alone", row.id)
            return True
        log.info("outbox %s: its media expired and it has no text; nothing sent", row.id)
        return False

    def _after(self, row: OutboxMessage) -> None:
        """A row is done: claim again soon if its chat may have more replies, or if there is
        room for a good batch of bulk."""
        if row.priority < BULK or self._room(row.channel) >= self.capacity(row.channel) // 2:
            self.wake()

    # --- settling ----------------------------------------------------------------------

    async def _failed(self, held: _Held, error: str) -> None:
        """Network error or 5xx: try again later with a growing pause, a bounded number of times."""
        attempts = held.row.attempts + 1
        if attempts >= self.settings.outbox_max_attempts:
            await self._settle(held, OutboxStatus.DEAD, error=error, attempts=attempts)
            return
        await self._retry(held, min(2.0**attempts, MAX_BACKOFF_SECONDS), error, attempts)

    async def _retry(
        self, held: _Held, seconds: float, error: str, attempts: int | None = None
    ) -> None:
        when = self.clock() + timedelta(seconds=seconds)

        async def work(uow: UnitOfWork) -> None:
            await uow.outbox.retry_at(held.id, when, error=error, attempts=attempts)

        await self._write(f"retry of outbox {held.id}", work)

    async def _settle(
        self,
        held: _Held,
        status: OutboxStatus,
        *,
        error: str | None = None,
        attempts: int | None = None,
        private: Outgoing | None = None,
    ) -> None:
        """Record an outcome; ``private`` is the message if it might reveal an answer."""
        now = self.clock()
        scrubbed = private.scrubbed_json() if private is not None and private.private else None

        async def work(uow: UnitOfWork) -> None:
            await uow.outbox.settle(
                held.id, status, now=now, error=error, attempts=attempts, payload=scrubbed
            )

        await self._write(f"outbox {held.id} {status.value}", work)

    async def _chat_unreachable(self, held: _Held, error: str) -> None:
        row, now = held.row, self.clock()

        async def work(uow: UnitOfWork) -> None:
            await uow.outbox.chat_unreachable(
                row.channel, row.chat_id, now=now, error=error, sender_id=self.sender_id
            )

        await self._write(f"outbox {held.id} unreachable", work)

    async def _write(self, what: str, work: Callable[[UnitOfWork], Awaitable[None]]) -> None:
        """Record an outcome, waiting out a short database outage: a message the platform
        took but that is not marked sent would be sent again once its lease ends."""
        pause = 0.2
        deadline = self.monotonic() + WRITE_PATIENCE_SECONDS
        while True:
            try:
                async with unit_of_work(self.db) as uow:
                    await work(uow)
                    await uow.commit()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.monotonic() >= deadline:
                    log.exception("could not record %s", what)
                    return
                log.warning("could not record %s; retrying in %.1fs", what, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
