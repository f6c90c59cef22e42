"""Exactly one scheduler leader among several bot processes.

Several bot processes may serve the same database (webhooks behind a load balancer, a
rolling restart); only one of them may run the scheduler, or reminders would be sent
twice. The leader is whoever holds a lock that the operating system or the database
releases by itself when the holder dies — even on ``kill -9`` — so there are no
leases to expire and no stale leaders to clean up:

* **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock``) taken on a
  dedicated asyncpg connection, outside the SQLAlchemy pool. The leader keeps that
  connection open and checks it every ``check_seconds`` with a cheap query; when the
  connection drops, PostgreSQL releases the lock. Advisory locks are per database.
  They need a direct (or session-pooled) connection: a transaction-pooling proxy such
  as PgBouncer in transaction mode would lose the lock between queries.
* **SQLite** (one machine): an exclusive non-blocking ``flock`` on ``<db>.leader.lock``
  next to the database file. ``flock`` locks belong to the open file, so two elections
  in one process exclude each other too. An in-memory database has a single process by
  definition: its election always wins.

A process that is not the leader tries again every ``retry_seconds`` (10 s by default,
so a dead leader is replaced well within a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy.engine import make_url

__all__ = ["LEADER_LOCK_KEY", "LeaderElection", "lock_file_for"]

log = logging.getLogger(__name__)

# A fixed signed 64-bit key for pg_try_advisory_lock, derived from a name so that it
# does not collide with small keys other code might pick.
LEADER_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"doanbot:scheduler-leader").digest()[:8], "big", signed=True
)

OnChange = Callable[[bool], Awaitable[None]]


def lock_file_for(database: str) -> Path:
    """The lock file of an SQLite database file: ``<db>.leader.lock`` beside it."""
    return Path(f"{database}.leader.lock")


class _Backend:
    """One way of holding the lock."""

    async def try_acquire(self) -> bool:
        raise NotImplementedError

    async def still_held(self) -> bool:
        raise NotImplementedError

    async def release(self) -> None:
        raise NotImplementedError


class _AlwaysLeader(_Backend):
    """In-memory SQLite: only this process can see the database."""

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class _FileLock(_Backend):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        return self._acquire()

    def _acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError: another process (or election) holds it
            os.close(fd)
            return False
        self._fd = fd
        # The holder's pid, for whoever wonders which process leads.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        return True

    async def still_held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class _AdvisoryLock(_Backend):
    def __init__(self, dsn: str, key: int, timeout: float) -> None:
        self.dsn = dsn
        self.key = key
        self.timeout = timeout
        self._conn: Any = None  # asyncpg.Connection
        self._held = False

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            import asyncpg

            self._conn = await asyncpg.connect(
                self.dsn,
                timeout=self.timeout,
                server_settings={"application_name": "doanbot-leader"},
            )
        return self._conn

    async def try_acquire(self) -> bool:
        if self._held:
            return True
        try:
            conn = await self._connection()
            # Non-leaders keep their connection open for the next try.
            self._held = bool(
                await conn.fetchval(
                    "SELECT pg_try_advisory_lock($1::bigint)", self.key, timeout=self.timeout
                )
            )
        except BaseException:
            await self._drop()
            raise
        return self._held

    async def still_held(self) -> bool:
        if not self._held or self._conn is None or self._conn.is_closed():
            return False
        try:
            await self._conn.fetchval("SELECT 1", timeout=self.timeout)
        except Exception as exc:
            log.warning("leader connection lost: %s", exc)
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._held and self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(Exception):
                await self._conn.fetchval(
                    "SELECT pg_advisory_unlock($1::bigint)", self.key, timeout=self.timeout
                )
        await self._drop()

    async def _drop(self) -> None:
        """Close the connection (which releases the lock if the server still has it)."""
        conn, self._conn, self._held = self._conn, None, False
        if conn is None:
            return
        try:
            await asyncio.wait_for(conn.close(), self.timeout)
        except asyncio.CancelledError:
            conn.terminate()
            raise
        except Exception:  # already broken: just drop the socket
            conn.terminate()


def _backend_for(url: str, key: int, timeout: float) -> _Backend:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or database.startswith("file::memory:"):
            return _AlwaysLeader()
        return _FileLock(lock_file_for(database))
    if backend in ("postgresql", "postgres"):
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return _AdvisoryLock(dsn, key, timeout)
    raise ValueError(f"no leader election for database URL scheme {parsed.drivername!r}")


class LeaderElection:
    """Keeps trying to become, and stay, the one scheduler leader for a database.

    ``url`` is the bot's database URL: ``postgresql://``, ``postgresql+asyncpg://`` or
    an SQLite URL such as ``sqlite+aiosqlite:///data/doanbot.sqlite3``. ``on_change``
    is awaited with True when this process becomes the leader and with False when it
    stops being the leader (lost connection, or :meth:`stop`); its errors are logged.

    Use ``await start()`` / ``await stop()``, or ``async with``. After :meth:`start`
    returns, the first attempt has been made, so :attr:`is_leader` is already settled
    when no other process holds the lock.
    """

    def __init__(
        self,
        url: str,
        *,
        on_change: OnChange | None = None,
        retry_seconds: float = 10.0,
        check_seconds: float = 5.0,
        lock_key: int = LEADER_LOCK_KEY,
        timeout_seconds: float = 5.0,
    ) -> None:
        if retry_seconds <= 0 or check_seconds <= 0 or timeout_seconds <= 0:
            raise ValueError("intervals must be positive")
        self.on_change: OnChange | None = on_change
        self.retry_seconds = retry_seconds
        self.check_seconds = check_seconds
        self._backend = _backend_for(url, lock_key, timeout_seconds)
        self._leader = False
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this process is the scheduler leader right now."""
        return self._leader

    async def start(self) -> None:
        """Make a first attempt, then keep trying (or checking) in the background."""
        if self._task is not None:
            return
        self._stopping = asyncio.Event()
        await self._attempt()
        self._task = asyncio.create_task(self._run(), name="leader-election")

    async def stop(self) -> None:
        """Stop trying; release the lock if held (telling ``on_change``)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self._backend.release()
        finally:
            await self._set(False)

    async def __aenter__(self) -> LeaderElection:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _run(self) -> None:
        while True:
            await self._sleep(self.check_seconds if self._leader else self.retry_seconds)
            if self._stopping.is_set():
                return
            if self._leader:
                await self._check()
            if not self._leader:  # a lost lock may be free again: try at once
                await self._attempt()

    async def _attempt(self) -> None:
        try:
            acquired = await self._backend.try_acquire()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("leader election: could not try the lock: %s", exc)
            acquired = False
        if acquired:
            log.info("became the scheduler leader")
        await self._set(acquired)

    async def _check(self) -> None:
        try:
            held = await self._backend.still_held()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("leader election: check failed: %s", exc)
            held = False
        if not held:
            log.warning("lost scheduler leadership")
            with contextlib.suppress(Exception):
                await self._backend.release()
            await self._set(False)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _set(self, leader: bool) -> None:
        if leader == self._leader:
            return
        self._leader = leader
        if self.on_change is None:
            return
        try:
            await self.on_change(leader)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("leader election: on_change(%s) failed", leader)
