"""Scheduler leader election: one leader among several processes, failover on death.

The PostgreSQL tests run only when DOANBOT_TEST_DATABASE_URL is set; each uses its own
random lock key, so they never contend with a bot running on the same database.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from scheduler.leader import LEADER_LOCK_KEY, LeaderElection, lock_file_for

PG_URL = os.environ.get("DOANBOT_TEST_DATABASE_URL")
ROOT = Path(__file__).resolve().parent.parent
RETRY = 0.5

# A separate bot process: runs an election, says whether it leads, then waits forever.
CHILD = """
import asyncio, sys
from scheduler.leader import LeaderElection

async def main():
    election = LeaderElection(sys.argv[1], retry_seconds=0.2, lock_key=int(sys.argv[2]))
    await election.start()
    print("leader" if election.is_leader else "follower", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def wait_until(condition: Callable[[], bool], within: float) -> float:
    """Seconds until ``condition()`` holds; fails after ``within`` seconds."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


class Recorder:
    def __init__(self) -> None:
        self.changes: list[bool] = []

    async def __call__(self, leader: bool) -> None:
        self.changes.append(leader)


@asynccontextmanager
async def child_process(url: str, key: int) -> AsyncIterator[asyncio.subprocess.Process]:
    """A real process holding the lock (or trying to); killed with SIGKILL at the end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, url, str(key), cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 15)
        assert line.strip() == b"leader"
        yield process
    finally:
        if process.returncode is None:
            os.kill(process.pid, signal.SIGKILL)
            await process.wait()


async def two_elections_one_leader(url: str, key: int) -> None:
    first_changes, second_changes = Recorder(), Recorder()
    first = LeaderElection(url, on_change=first_changes, retry_seconds=0.1, lock_key=key)
    second = LeaderElection(url, on_change=second_changes, retry_seconds=0.1, lock_key=key)
    try:
        await first.start()
        await second.start()
        assert first.is_leader and not second.is_leader
        await asyncio.sleep(0.3)  # several retries later, still one leader
        assert first.is_leader and not second.is_leader

        await first.stop()
        assert not first.is_leader
        await wait_until(lambda: second.is_leader, 3)
        assert first_changes.changes == [True, False]
        assert second_changes.changes == [True]

        await first.start()  # the old leader comes back as a follower
        assert not first.is_leader
    finally:
        await first.stop()
        await second.stop()
    assert second_changes.changes == [True, False]


async def takeover_after_kill(url: str, key: int) -> None:
    async with child_process(url, key) as child:
        election = LeaderElection(url, retry_seconds=RETRY, lock_key=key)
        try:
            await election.start()
            assert not election.is_leader
            await asyncio.sleep(RETRY * 2)
            assert not election.is_leader

            os.kill(child.pid, signal.SIGKILL)
            await child.wait()
            elapsed = await wait_until(lambda: election.is_leader, RETRY * 6)
            assert elapsed <= RETRY * 6
        finally:
            await election.stop()


# --- SQLite -----------------------------------------------------------------------


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


async def test_sqlite_one_leader_and_handover(tmp_path: Path) -> None:
    await two_elections_one_leader(sqlite_url(tmp_path), LEADER_LOCK_KEY)
    assert (tmp_path / "bot.sqlite3.leader.lock").exists()


async def test_sqlite_takeover_when_the_leader_process_is_killed(tmp_path: Path) -> None:
    await takeover_after_kill(sqlite_url(tmp_path), LEADER_LOCK_KEY)


async def test_sqlite_lock_file_sits_next_to_the_database(tmp_path: Path) -> None:
    assert lock_file_for("data/doanbot.sqlite3") == Path("data/doanbot.sqlite3.leader.lock")
    url = f"sqlite:///{tmp_path / 'sub' / 'db.sqlite3'}"  # plain URL; folder made on demand
    async with LeaderElection(url) as election:
        assert election.is_leader
        assert (tmp_path / "sub" / "db.sqlite3.leader.lock").read_text().strip() == str(os.getpid())
    assert not election.is_leader


async def test_in_memory_sqlite_always_leads() -> None:
    first = LeaderElection("sqlite+aiosqlite:///:memory:")
    second = LeaderElection("sqlite://")
    await first.start()
    await second.start()
    assert first.is_leader and second.is_leader
    await first.stop()
    await second.stop()


async def test_on_change_errors_do_not_stop_the_election(tmp_path: Path) -> None:
    async def broken(_leader: bool) -> None:
        raise RuntimeError("boom")

    election = LeaderElection(sqlite_url(tmp_path), on_change=broken)
    await election.start()
    assert election.is_leader
    await election.stop()
    assert not election.is_leader


def test_unsupported_urls_and_intervals() -> None:
    with pytest.raises(ValueError):
        LeaderElection("mysql://localhost/bot")
    with pytest.raises(ValueError):
        LeaderElection("sqlite://", retry_seconds=0)


# --- PostgreSQL -------------------------------------------------------------------

needs_postgres = pytest.mark.skipif(not PG_URL, reason="DOANBOT_TEST_DATABASE_URL is not set")


def random_key() -> int:
    return random.randint(-(2**63), 2**63 - 1)


@needs_postgres
@pytest.mark.parametrize("scheme", ["postgresql://", "postgresql+asyncpg://"])
async def test_postgres_one_leader_and_handover(scheme: str) -> None:
    assert PG_URL is not None
    url = scheme + PG_URL.split("://", 1)[1]
    await two_elections_one_leader(url, random_key())


@needs_postgres
async def test_postgres_takeover_when_the_leader_process_is_killed() -> None:
    assert PG_URL is not None
    await takeover_after_kill(PG_URL, random_key())


@needs_postgres
async def test_postgres_leader_notices_a_dropped_connection() -> None:
    import asyncpg

    assert PG_URL is not None
    key = random_key()
    changes = Recorder()
    election = LeaderElection(
        PG_URL, on_change=changes, retry_seconds=0.1, check_seconds=0.1, lock_key=key
    )
    dsn = "postgresql://" + PG_URL.split("://", 1)[1]
    admin = await asyncpg.connect(dsn)
    try:
        await election.start()
        assert election.is_leader
        # A bigint advisory key shows in pg_locks as its high and low 32 bits.
        holder = await admin.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objsubid = 1 AND classid = $1::bigint::oid AND objid = $2::bigint::oid",
            (key >> 32) & 0xFFFFFFFF,
            key & 0xFFFFFFFF,
        )
        assert holder is not None
        await admin.execute("SELECT pg_terminate_backend($1)", holder)
        await wait_until(lambda: changes.changes[:2] == [True, False], 3)
        # Nobody else wants the lock: the election takes it back on a new connection.
        await wait_until(lambda: election.is_leader, 3)
        assert changes.changes == [True, False, True]
    finally:
        await election.stop()
        await admin.close()
