"""``doanbot demo`` (``make demo``): chat with the real bot from the terminal, offline.

Fake Telegram and Zalo servers run in this process; the real bot runs as a child
process (``python -m bot run``) against them and a sandbox SQLite database in
``data/demo`` seeded with the sample province. Its log goes to ``data/demo/bot.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from bot.i18n import translate
from bot.sandbox.fake_telegram import FakeTelegram
from bot.sandbox.fake_zalo import FakeZalo
from bot.sandbox.terminal import HELP, Out, ReadLine, TerminalChat, read_stdin
from storage.db import Database
from storage.migrate import upgrade_async
from storage.sample import SAMPLE_UNITS, SampleInvite, seed_sample_province
from storage.types import utcnow
from storage.uow import unit_of_work

DEMO_DIR = Path("data") / "demo"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
TELEGRAM_TOKEN = "123456:SANDBOX"
ZALO_TOKEN = "1234567890:SANDBOX"
START_TIMEOUT = 30.0
READY = "doanbot running"


async def seed(database_url: str) -> list[SampleInvite]:
    """Migrate the sandbox database and add fresh invites for the sample province."""
    await upgrade_async(database_url)
    db = Database(database_url)
    try:
        async with unit_of_work(db) as uow:
            invites = await seed_sample_province(uow, utcnow())
            await uow.commit()
    finally:
        await db.dispose()
    return invites


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(
    database_url: str, telegram: FakeTelegram, zalo: FakeZalo, *, http_port: int | None = None
) -> dict[str, str]:
    """The environment of a bot talking to the two (started) fakes; no other DOANBOT_*.

    With ``http_port`` the bot also serves its HTTP routes on 127.0.0.1 there, under that
    public URL, so charts reach Zalo (which shows photos only by URL) in polling mode.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOANBOT_")}
    env.update(
        DOANBOT_DATABASE_URL=database_url,
        DOANBOT_TELEGRAM_TOKEN=telegram.token,
        DOANBOT_TELEGRAM_API_URL=telegram.base_url,
        DOANBOT_TELEGRAM_BOT_USERNAME=telegram.username,
        DOANBOT_ZALO_TOKEN=zalo.token,
        DOANBOT_ZALO_API_URL=zalo.base_url,
        DOANBOT_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
    )
    if http_port is not None:
        env.update(
            DOANBOT_WEBHOOK_HOST="127.0.0.1",
            DOANBOT_WEBHOOK_PORT=str(http_port),
            DOANBOT_PUBLIC_URL=f"http://127.0.0.1:{http_port}",
        )
    return env


@contextlib.asynccontextmanager
async def bot_process(env: dict[str, str], data_dir: Path) -> AsyncIterator[bool]:
    """Run ``python -m bot run``; yield whether it said it is running within 30 s.

    It runs in ``data_dir`` so that a developer's ``.env`` cannot reach it, and it is
    stopped (SIGTERM, then SIGKILL) however the block ends.
    """
    log_path = data_dir / "bot.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=data_dir, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while READY not in log_path.read_text(errors="replace"):
            if proc.returncode is not None or time.monotonic() > deadline:
                yield False
                return
            await asyncio.sleep(0.1)
        yield True
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)  # before any await: a second Ctrl-C cannot skip it
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def banner(invites: list[SampleInvite], data_dir: Path) -> str:
    lines = [
        "doanbot sandbox: Telegram + Zalo giả lập / fake, SQLite " + str(data_dir),
        f"Mã mời / invite codes ({SAMPLE_UNITS[0][1]}):",
    ]
    for invite in invites:
        role = translate("vi", f"role.{invite.role}")
        lines.append(f"  {invite.code}  {invite.unit_name}: {role} ({invite.role})")
    lines += [
        "Gõ mã để tham gia / type a code to join. Bạn là / you are Telegram 1001 (An).",
        HELP,
        f"Xoá dữ liệu / reset: rm -r {data_dir}",
    ]
    return "\n".join(lines)


async def demo_session(stdin_lines: Iterable[str] | None, out: Out, data_dir: Path) -> int:
    """The whole demo; ``stdin_lines`` (echoed) replaces the keyboard. Returns the exit code."""
    data_dir = _make_dir(data_dir)
    database_url = f"sqlite+aiosqlite:///{data_dir / 'doanbot.sqlite3'}"
    # Update ids go on from earlier runs: the bot ignores an id it has already processed.
    telegram = FakeTelegram(TELEGRAM_TOKEN, limits=True, first_update_id=int(time.time() * 1000))
    zalo = FakeZalo(ZALO_TOKEN, limits=True)
    try:
        await telegram.start()
        await zalo.start()
        invites = await seed(database_url)
        env = bot_env(database_url, telegram, zalo, http_port=free_port())
        async with bot_process(env, data_dir) as running:
            if not running:
                log = (data_dir / "bot.log").read_text(errors="replace").splitlines()
                out("\n".join(["Bot không chạy được / the bot did not start:", *log[-30:]]))
                return 1
            out(banner(invites, data_dir))
            chat = TerminalChat(telegram, zalo, out, data_dir / "bot.log")
            await chat.run(read_stdin if stdin_lines is None else _scripted(stdin_lines, out))
    finally:
        await zalo.stop()
        await telegram.stop()
    return 0


def _make_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _scripted(lines: Iterable[str], out: Out) -> ReadLine:
    pending = iter(lines)

    async def read_line(prompt: str) -> str | None:
        line = next(pending, None)
        if line is not None:
            out(prompt + line)
        return line

    return read_line


async def _interactive() -> int:
    task = asyncio.current_task()
    if task is not None:  # SIGTERM: clean up as on Ctrl-C
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await demo_session(None, print, DEMO_DIR)


def run_demo() -> None:
    """Entry point of ``doanbot demo``; exits with status 1 if the bot does not start."""
    code = 0
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        code = asyncio.run(_interactive())
    print("\nTạm biệt! / Bye!")
    if code:
        sys.exit(code)
