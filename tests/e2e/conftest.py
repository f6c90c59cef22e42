"""End to end: the real bot process (aiogram, httpx) against the fake servers on loopback."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.sandbox.demo import bot_env, free_port
from bot.sandbox.fake_telegram import FakeTelegram
from bot.sandbox.fake_zalo import FakeZalo
from storage.db import Database
from storage.sample import seed_sample_province
from storage.types import utcnow
from storage.uow import unit_of_work

ROOT = Path(__file__).resolve().parents[2]
TG_TOKEN = "123456:TEST-telegram-token-e2e"
ZALO_TOKEN = "987654321:TEST-zalo-token-e2e"
TG_SECRET = "tg-webhook-secret-e2e"
ZALO_SECRET = "zalo-webhook-secret-e2e"

pytestmark = pytest.mark.e2e


@dataclass
class BotProcess:
    """`python -m bot run` as a child process, with its log in a file."""

    env: dict[str, str]
    log_path: Path
    args: list[str] = field(default_factory=list)
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0

    async def start(self) -> None:
        self.starts += 1
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            *self.args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        await self.wait_for_log("doanbot running", offset)

    async def wait_for_log(self, needle: str, offset: int = 0, within: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            if needle in text:
                return
            if self.proc is not None and self.proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"bot never logged {needle!r}:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def kill(self) -> None:
        """SIGKILL: no clean-up, whatever was in flight is cut off."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


@dataclass
class Sandbox:
    telegram: FakeTelegram
    zalo: FakeZalo
    bot: BotProcess
    codes: dict[str, str]
    database_url: str
    clock_file: Path | None = None

    def move_clock_to(self, when: datetime) -> None:
        """Move the running bot's clock (it adds the file's seconds to the real time)."""
        assert self.clock_file is not None
        offset = (when - datetime.now(UTC)).total_seconds()
        self.clock_file.write_text(f"{offset:.3f}")

    async def cli(self, *args: str) -> tuple[int, str]:
        """Run the operator CLI against the same database."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=ROOT,
            env=self.bot.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()


async def _seed(url: str) -> dict[str, str]:
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            invites = await seed_sample_province(uow, utcnow())
            await uow.commit()
    finally:
        await db.dispose()
    return {f"{i.unit_code}/{i.role}": i.code for i in invites}


def _env(database_url: str, telegram: FakeTelegram, zalo: FakeZalo) -> dict[str, str]:
    return bot_env(database_url, telegram, zalo)


@pytest.fixture
async def sandbox(database_url: str, tmp_path: Path) -> AsyncIterator[Sandbox]:
    telegram = FakeTelegram(TG_TOKEN, webhook_retry_delay=0.2)
    zalo = FakeZalo(ZALO_TOKEN, webhook_retry_delay=0.2)
    await telegram.start()
    await zalo.start()
    codes = await _seed(database_url)
    clock_file = tmp_path / "clock-offset"
    clock_file.write_text("0")
    # Polling, and serving media links as `make demo` does: charts reach Zalo by URL.
    env = bot_env(database_url, telegram, zalo, http_port=free_port())
    env.update(DOANBOT_CLOCK_OFFSET_FILE=str(clock_file), DOANBOT_SCHEDULER_TICK_SECONDS="0.5")
    bot = BotProcess(env, tmp_path / "bot.log")
    box = Sandbox(telegram, zalo, bot, codes, database_url, clock_file)
    try:
        await bot.start()
        yield box
    finally:
        await bot.stop()
        await telegram.stop()
        await zalo.stop()


@pytest.fixture
async def webhook_sandbox(database_url: str, tmp_path: Path) -> AsyncIterator[Sandbox]:
    """The bot serving both webhooks; the fakes push updates to it."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    telegram = FakeTelegram(TG_TOKEN, webhook_retry_delay=0.2)
    zalo = FakeZalo(ZALO_TOKEN, webhook_retry_delay=0.2)
    await telegram.start()
    await zalo.start()
    codes = await _seed(database_url)
    env = _env(database_url, telegram, zalo)
    env.update(
        DOANBOT_WEBHOOK_HOST="127.0.0.1",
        DOANBOT_WEBHOOK_PORT=str(port),
        DOANBOT_PUBLIC_URL=f"http://127.0.0.1:{port}",
        DOANBOT_TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
        DOANBOT_ZALO_WEBHOOK_SECRET=ZALO_SECRET,
    )
    bot = BotProcess(env, tmp_path / "bot.log", args=["--webhook"])
    box = Sandbox(telegram, zalo, bot, codes, database_url)
    try:
        await bot.start()
        yield box
    finally:
        await bot.stop()
        await telegram.stop()
        await zalo.stop()
