"""The outbox: every message to a chat is a row first, sent after the transaction commits.

Producers :meth:`~OutboxRepository.add` rows in the transaction that decided to send
them. Senders :meth:`~OutboxRepository.claim` due rows with a lease, so two senders
never hold the same row, and settle each row once the platform has answered.

A chat's rows go out in the order they were added. A sender only ever claims the
first due row of a chat, and leaves a chat alone while any of its rows is claimed
(by anyone) or waits to be retried after an error (``last_error`` set and
``not_before`` ahead): the rows behind it wait too. Rows scheduled for later (a
reminder) do not hold back rows due now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, distinct, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.messages import Outgoing
from storage.models import ChannelIdentity, OutboxMessage, OutboxStatus
from storage.upsert import insert_ignore

INTERACTIVE = 0
BULK = 10

#: Shown as the error of rows not even tried because their chat had blocked the bot.
BLOCKED_EARLIER = "chat unreachable: blocked the bot earlier"

_PENDING = OutboxStatus.PENDING.value


@dataclass
class Claim:
    """What one claim round got: rows to send, and what it settled without sending."""

    rows: list[OutboxMessage] = field(default_factory=list)
    #: Rows to chats known to have blocked the bot, marked unreachable without a call.
    unreachable: int = 0
    #: Senders holding live claims on the channel, this one included (bulk claims only).
    senders: int = 1


@dataclass(frozen=True)
class StatusLine:
    status: str
    category: str
    count: int


@dataclass(frozen=True)
class Report:
    """The operator's view of the outbox."""

    lines: list[StatusLine]
    #: When the longest-waiting due row was due (rows scheduled for later are not late).
    oldest_due: datetime | None
    scheduled: int  # pending rows whose time has not come yet
    dead: list[OutboxMessage]  # the newest dead rows
    dead_total: int
    unreachable: int


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- producers ---------------------------------------------------------------------

    async def add(
        self,
        channel: str,
        out: Outgoing,
        *,
        now: datetime,
        priority: int = INTERACTIVE,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
        category: str = "reply",
        person_id: int | None = None,
    ) -> bool:
        """Queue one action; with a dedupe key a second identical decision is a no-op."""
        values = pending_row(
            channel,
            out.to_json(),
            now=now,
            priority=priority,
            dedupe_key=dedupe_key,
            not_before=not_before,
            category=category,
            person_id=person_id,
        )
        if dedupe_key is None:
            self.session.add(OutboxMessage(**values))
            await self.session.flush()
            return True
        return await insert_ignore(self.session, OutboxMessage, values, ["dedupe_key"])

    # --- senders: claiming -------------------------------------------------------------

    async def claim(
        self,
        channel: str,
        sender_id: str,
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        interactive_only: bool = False,
    ) -> Claim:
        """Claim up to ``limit`` due rows of ``channel`` for ``sender_id`` until now + lease.

        At most one row per chat: the chat's first due row, and only when no row of the
        chat is claimed or waiting for a retry. ``interactive_only`` takes only chats with
        a reply due (a reply stuck behind a bulk row of its chat brings that row along).
        Run it in its own short transaction and commit at once.
        """
        claim = Claim()
        if not interactive_only:  # counted once per round, with the bulk
            claim.senders = 1 + await self._other_senders(channel, sender_id, now)
        if limit <= 0:
            return claim
        first_ids = await self._first_rows(channel, now, limit, interactive_only)
        if not first_ids:
            return claim
        # Lock what is still free. On PostgreSQL rows another sender is claiming right
        # now are skipped, and the conditions are checked again on the locked row, so
        # two senders never both get one. SQLite has one writer (BEGIN IMMEDIATE).
        locked = await self.session.exec(
            select(OutboxMessage.id, OutboxMessage.chat_id)
            .where(col(OutboxMessage.id).in_(first_ids), *_claimable(now))
            .with_for_update(skip_locked=True)
        )
        chats = {row_id: chat_id for row_id, chat_id in locked.all() if row_id is not None}
        if not chats:
            return claim
        blocked = await self._unreachable_chats(channel, set(chats.values()))
        dead_ends = [row_id for row_id, chat_id in chats.items() if chat_id in blocked]
        if dead_ends:
            await self.session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(dead_ends))
                .values(status=OutboxStatus.UNREACHABLE.value, last_error=BLOCKED_EARLIER)
            )
            claim.unreachable = len(dead_ends)
        mine = [row_id for row_id, chat_id in chats.items() if chat_id not in blocked]
        if mine:
            await self.session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(mine))
                .values(claimed_by=sender_id, claimed_until=now + lease)
            )
            rows = await self.session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.id).in_(mine))
                .order_by(col(OutboxMessage.priority), col(OutboxMessage.id))
                .execution_options(populate_existing=True)
            )
            claim.rows = list(rows.all())
        return claim

    async def _first_rows(
        self, channel: str, now: datetime, limit: int, interactive_only: bool
    ) -> list[int]:
        """The first due row of each free chat, most urgent chats first."""
        row = OutboxMessage
        waiting_for_retry = select(row.chat_id).where(
            col(row.channel) == channel,
            col(row.status) == _PENDING,
            col(row.not_before) > now,
            col(row.last_error).is_not(None),
        )
        claimed_now = func.max(case((col(row.claimed_until) >= now, 1), else_=0))
        best = func.min(row.priority)
        first = func.min(row.id)
        having = [claimed_now == 0]
        if interactive_only:
            having.append(best < BULK)
        query = (
            select(first)
            .where(
                col(row.channel) == channel,
                col(row.status) == _PENDING,
                col(row.not_before) <= now,
                col(row.chat_id).not_in(waiting_for_retry),
            )
            .group_by(row.chat_id)
            .having(and_(*having))
            .order_by(best, first)
            .limit(limit)
        )
        result = await self.session.exec(query)
        return [int(row_id) for row_id in result.all() if row_id is not None]

    async def _unreachable_chats(self, channel: str, chat_ids: set[str]) -> set[str]:
        """Chats whose only accounts have blocked the bot (a new message unblocks them)."""
        result = await self.session.exec(
            select(ChannelIdentity.chat_id, ChannelIdentity.reachable).where(
                col(ChannelIdentity.channel) == channel, col(ChannelIdentity.chat_id).in_(chat_ids)
            )
        )
        seen = result.all()
        return {c for c, reachable in seen if not reachable} - {c for c, r in seen if r}

    async def _other_senders(self, channel: str, sender_id: str, now: datetime) -> int:
        result = await self.session.exec(
            select(func.count(distinct(col(OutboxMessage.claimed_by)))).where(
                col(OutboxMessage.channel) == channel,
                col(OutboxMessage.status) == _PENDING,
                col(OutboxMessage.claimed_until) >= now,
                col(OutboxMessage.claimed_by) != sender_id,
            )
        )
        return int(result.one() or 0)

    async def holders(self, prefix: str) -> set[str]:
        """Senders whose ids start with ``prefix`` and that hold pending rows."""
        result = await self.session.exec(
            select(OutboxMessage.claimed_by)
            .where(
                col(OutboxMessage.status) == _PENDING,
                col(OutboxMessage.claimed_by).startswith(prefix, autoescape=True),
            )
            .distinct()
        )
        return {holder for holder in result.all() if holder is not None}

    async def renew(
        self, sender_id: str, *, now: datetime, lease: timedelta, ids: Sequence[int] | None = None
    ) -> set[int]:
        """Extend this sender's claims (all, or ``ids``); returns the rows still held."""
        query = update(OutboxMessage).where(
            col(OutboxMessage.claimed_by) == sender_id, col(OutboxMessage.status) == _PENDING
        )
        if ids is not None:
            query = query.where(col(OutboxMessage.id).in_(ids))
        result = await self.session.execute(
            query.values(claimed_until=now + lease).returning(col(OutboxMessage.id))
        )
        return {int(row_id) for row_id in result.scalars().all()}

    async def release(self, sender_id: str, ids: Sequence[int] | None = None) -> int:
        """Give up this sender's claims (all, or ``ids``): others may take the rows at once."""
        query = update(OutboxMessage).where(
            col(OutboxMessage.claimed_by) == sender_id, col(OutboxMessage.status) == _PENDING
        )
        if ids is not None:
            query = query.where(col(OutboxMessage.id).in_(ids))
        result = await self.session.execute(query.values(claimed_by=None, claimed_until=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # --- senders: settling -------------------------------------------------------------

    async def settle(
        self,
        message_id: int,
        status: OutboxStatus,
        *,
        now: datetime,
        error: str | None = None,
        attempts: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Record a final outcome (sent, dead, unreachable).

        ``payload`` replaces the stored one when the row is *sent*: a message revealing an
        anonymous answer is kept, for the retention period, as
        :meth:`~bot.messages.Outgoing.scrubbed_json` only, so the outbox does not tie a chat
        to an answer. Any other outcome keeps the payload: the row may be sent again.
        """
        values: dict[str, Any] = {"status": status.value, "claimed_until": None}
        if status == OutboxStatus.SENT:
            values["sent_at"] = now
            if payload is not None:
                values["payload"] = payload
        if error is not None:
            values["last_error"] = error[:500]
        if attempts is not None:
            values["attempts"] = attempts
        await self.session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == _PENDING)
            .values(**values)
        )

    async def retry_at(
        self, message_id: int, when: datetime, *, error: str, attempts: int | None = None
    ) -> None:
        """Put a row back, unclaimed, to be tried again at ``when``; its chat waits for it."""
        values: dict[str, Any] = {
            "not_before": when,
            "last_error": error[:500],
            "claimed_by": None,
            "claimed_until": None,
        }
        if attempts is not None:
            values["attempts"] = attempts
        await self.session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == _PENDING)
            .values(**values)
        )

    async def chat_unreachable(
        self, channel: str, chat_id: str, *, now: datetime, error: str, sender_id: str
    ) -> int:
        """The chat blocked the bot: its due rows (not held by another sender) fail too, and
        its accounts are marked unreachable until the person writes again."""
        free = or_(
            col(OutboxMessage.claimed_until).is_(None),
            col(OutboxMessage.claimed_until) < now,
            col(OutboxMessage.claimed_by) == sender_id,
        )
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.channel) == channel,
                col(OutboxMessage.chat_id) == chat_id,
                col(OutboxMessage.status) == _PENDING,
                col(OutboxMessage.not_before) <= now,
                free,
            )
            .values(status=OutboxStatus.UNREACHABLE.value, last_error=error[:500])
        )
        await self.session.execute(
            update(ChannelIdentity)
            .where(col(ChannelIdentity.channel) == channel, col(ChannelIdentity.chat_id) == chat_id)
            .values(reachable=False, blocked_at=now)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # --- operators ---------------------------------------------------------------------

    async def report(self, now: datetime, dead_shown: int = 20) -> Report:
        by_status = await self.session.exec(
            select(OutboxMessage.status, OutboxMessage.category, func.count())
            .group_by(OutboxMessage.status, OutboxMessage.category)
            .order_by(OutboxMessage.status, OutboxMessage.category)
        )
        lines = [StatusLine(status, category, count) for status, category, count in by_status]
        pending = col(OutboxMessage.status) == _PENDING
        oldest = await self.session.exec(
            select(func.min(OutboxMessage.not_before)).where(
                pending, col(OutboxMessage.not_before) <= now
            )
        )
        scheduled = await self.session.exec(
            select(func.count()).where(pending, col(OutboxMessage.not_before) > now)
        )
        dead = await self.session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.status) == OutboxStatus.DEAD.value)
            .order_by(col(OutboxMessage.id).desc())
            .limit(dead_shown)
        )

        def total(status: OutboxStatus) -> int:
            return sum(line.count for line in lines if line.status == status)

        return Report(
            lines=lines,
            oldest_due=oldest.first(),
            scheduled=int(scheduled.one()),
            dead=list(dead.all()),
            dead_total=total(OutboxStatus.DEAD),
            unreachable=total(OutboxStatus.UNREACHABLE),
        )

    async def retry_dead(self, now: datetime, message_id: int | None = None) -> int:
        """Dead rows (all, or one) back to pending with their attempts reset."""
        query = update(OutboxMessage).where(col(OutboxMessage.status) == OutboxStatus.DEAD.value)
        if message_id is not None:
            query = query.where(col(OutboxMessage.id) == message_id)
        result = await self.session.execute(
            query.values(
                status=_PENDING,
                attempts=0,
                not_before=now,
                last_error=None,
                claimed_by=None,
                claimed_until=None,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # --- reading and housekeeping ------------------------------------------------------

    async def counts(self) -> dict[str, int]:
        result = await self.session.exec(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: count for status, count in result.all()}

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(OutboxMessage).where(
                col(OutboxMessage.status) == OutboxStatus.SENT,
                col(OutboxMessage.sent_at) < before,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def pending_row(
    channel: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    priority: int = INTERACTIVE,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    category: str = "reply",
    person_id: int | None = None,
) -> dict[str, Any]:
    """The values of a new outbox row for ``payload`` (an :class:`Outgoing`'s JSON, its
    ``chat_id`` filled in): for :meth:`OutboxRepository.add` and bulk INSERTs alike."""
    return {
        "channel": channel,
        "chat_id": payload["chat_id"],
        "priority": priority,
        "category": category,
        "person_id": person_id,
        "payload": payload,
        "status": _PENDING,
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
        "dedupe_key": dedupe_key,
    }


def _claimable(now: datetime) -> list[Any]:
    """Pending and not held: never claimed, released, or the holder's lease ran out."""
    return [
        col(OutboxMessage.status) == _PENDING,
        col(OutboxMessage.not_before) <= now,
        or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now),
    ]
