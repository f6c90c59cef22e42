"""The terminal chat of ``make demo``: talk to the real bot as Telegram or Zalo users.

Lines starting with ":" are sandbox commands (:help lists them); anything else is
what the current user writes. On Telegram a bare number presses that button of the
bot's last message. Each user keeps their own chat with the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import shutil
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.sandbox.fake_telegram import FakeTelegram, NoSuchButton
from bot.sandbox.fake_telegram import Message as TgMessage
from bot.sandbox.fake_zalo import FakeZalo
from bot.sandbox.fake_zalo import Message as ZaloMessage

Out = Callable[[str], None]
#: Shows a prompt and returns the next line typed, or None at the end of input.
ReadLine = Callable[[str], Awaitable[str | None]]

FIRST_ANSWER_WAIT = 5.0  # seconds to wait for the bot to start answering
QUIET = 0.6  # ... then until nothing changed for this long
AFTER_429 = 1.5  # ... or this long after a send was refused with 429 (the bot retries)
MORE_WAIT = 4.0  # at most this long after the first answer; later ones show on Enter
DEFAULT_TG, DEFAULT_ZALO = 1001, "zalo_2001"

HELP = """\
Lệnh sandbox / sandbox commands:
  :tg [ID] [TÊN]    là người dùng Telegram / be a Telegram user (1001)
  :zalo [ID] [TÊN]  là người dùng Zalo / be a Zalo user (zalo_2001)
  :who              bạn là ai / who am I
  :say TEXT         gửi nguyên văn / send as is (":say 2")
  :log [N]          nhật ký bot / tail of the bot log
  :help  :quit      trợ giúp, thoát / help, quit (Ctrl-D)
Số trên Telegram = bấm nút / a number on Telegram presses that button.
Enter: tin nhắn mới / show new messages."""


@dataclass
class User:
    """A simulated person and what of their chat was already printed."""

    channel: str  # "telegram" | "zalo"
    user_id: int | str
    name: str
    shown: dict[int | str, str] = field(default_factory=dict)  # message id -> text shown

    @property
    def label(self) -> str:
        platform = "Telegram" if self.channel == "telegram" else "Zalo"
        return f"{platform} {self.user_id} ({self.name})"


def _body(message: TgMessage | ZaloMessage) -> str:
    text = message.text if message.text is not None else message.caption or ""
    if isinstance(message, TgMessage) and (message.parse_mode or "").lower() == "html":
        text = html.unescape(re.sub(r"<[^>]*>", "", text))
    media = message.photo or message.document
    return f"[{message.kind}: {media}] {text}".strip() if message.kind != "text" else text


def _edit(before: str, after: str) -> str:
    """An edited text: only what was added when the bot appended to it."""
    if before and after.startswith(before):
        return "… " + after[len(before) :].strip()
    return after


class TerminalChat:
    """Reads lines, sends them as the current user, prints what the bot answers."""

    def __init__(self, telegram: FakeTelegram, zalo: FakeZalo, out: Out, log_path: Path) -> None:
        self.telegram = telegram
        self.zalo = zalo
        self.out = out
        self.log_path = log_path
        self.width = max(40, min(shutil.get_terminal_size().columns, 100))
        self.users: dict[tuple[str, str], User] = {}
        self.current = self._user("telegram", DEFAULT_TG, "An")

    async def run(self, read_line: ReadLine) -> None:
        """Chat until :quit or the end of input."""
        while True:
            self._show_new()  # answers that came late
            line = await read_line(f"{self.current.label}> ")
            if line is None or not await self.handle(line.strip()):
                return

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False means quit."""
        if not line.startswith(":"):
            if line:
                await self.send(line)
            return True
        command, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if command in ("q", "quit", "exit"):
            return False
        if command in ("tg", "telegram", "zalo"):
            self._switch(command, arg)
        elif command == "say" and arg:
            await self.send(arg, literal=True)
        elif command == "who":
            others = [u.label for u in self.users.values() if u is not self.current]
            self.out(f"Bạn là / you are: {self.current.label}")
            if others:
                self.out("Khác / others: " + ", ".join(others))
        elif command == "log":
            self._show_log(int(arg) if arg.isascii() and arg.isdigit() else 20)
        else:
            self.out(HELP if command == "help" else f"(!) Lệnh lạ / unknown: :{command}\n{HELP}")
        return True

    async def send(self, text: str, *, literal: bool = False) -> None:
        """Send ``text`` as the current user (or press a button), then show the answers."""
        user = self.current
        if isinstance(user.user_id, int):
            self._show_new()  # the buttons pressed must be the ones on screen
            last = self._last(user)
            number = text.isascii() and text.isdigit() and not literal
            if number and isinstance(last, TgMessage) and last.buttons:
                if not self._press(user.user_id, last, int(text)):
                    return
            else:
                self.telegram.user_says(user.user_id, text, first_name=user.name)
            answered = await self._settle(self.telegram)
        else:
            self.zalo.user_says(user.user_id, text, display_name=user.name)
            answered = await self._settle(self.zalo)
        self._show_new()
        if not answered:
            self.out("(bot chưa trả lời / no answer yet: Enter, :log)")

    def _press(self, user_id: int, message: TgMessage, number: int) -> bool:
        buttons = message.inline_buttons
        if not 1 <= number <= len(buttons):
            self.out(f"(!) Không có nút / no button [{number}]; :say {number} gửi chữ / sends text")
            return False
        try:
            self.telegram.press(user_id, button=number, message_id=message.message_id)
        except NoSuchButton as exc:
            self.out(f"(!) {exc}")
            return False
        self.out(f"👆 [{number}] {buttons[number - 1].get('text', '')}")
        return True

    @staticmethod
    async def _settle(fake: FakeTelegram | FakeZalo) -> bool:
        """Wait for the bot's answer, then until it has gone quiet; whether it answered."""
        since = fake.version
        version = await fake.wait_for_change(since, timeout=FIRST_ANSWER_WAIT)
        if version == since:
            return False
        deadline = time.monotonic() + MORE_WAIT
        refused, quiet = fake.answers_429, QUIET
        while (left := deadline - time.monotonic()) > 0:
            new = await fake.wait_for_change(version, timeout=min(quiet, left))
            if new != version:
                version, quiet = new, QUIET
            elif fake.answers_429 != refused:
                refused, quiet = fake.answers_429, AFTER_429
            else:
                break
        return True

    # --- users and output -------------------------------------------------------------------

    def _user(self, channel: str, user_id: int | str, name: str) -> User:
        key = (channel, str(user_id))
        if key not in self.users:
            self.users[key] = User(channel, user_id, name)
        return self.users[key]

    def _switch(self, command: str, arg: str) -> None:
        raw_id, _, name = arg.partition(" ")
        if command == "zalo":
            user = self._user("zalo", raw_id or DEFAULT_ZALO, name.strip() or "Bình")
        elif raw_id and not (raw_id.isascii() and raw_id.isdigit() and int(raw_id) > 0):
            self.out("(!) ID Telegram là số dương / Telegram ids are positive numbers")
            return
        else:
            user = self._user("telegram", int(raw_id or DEFAULT_TG), name.strip() or "An")
        if name.strip():
            user.name = name.strip()
        self.current = user
        self.out(f"— Bạn là / you are: {user.label}")
        user.shown.clear()  # show the last message again: where this chat stands
        for message in self._bot_messages(user)[:-1]:
            gone = getattr(message, "deleted", False)
            user.shown[message.message_id] = "" if gone else _body(message)

    def _bot_messages(self, user: User) -> list[TgMessage] | list[ZaloMessage]:
        if isinstance(user.user_id, int):
            return self.telegram.bot_messages(user.user_id)
        return self.zalo.bot_messages(user.user_id)

    def _last(self, user: User) -> TgMessage | ZaloMessage | None:
        """The bot's last message that is still there."""
        kept = [m for m in self._bot_messages(user) if not getattr(m, "deleted", False)]
        return kept[-1] if kept else None

    def _show_new(self) -> None:
        """Print the bot's new messages and edits in the current chat, then its buttons."""
        user, printed = self.current, False
        messages = self._bot_messages(user)
        for message in messages:
            body = _body(message)
            before = user.shown.get(message.message_id)
            if isinstance(message, TgMessage) and message.deleted:
                if before:
                    self._say(f"(đã xoá / deleted) {before.splitlines()[0]}")
                user.shown[message.message_id] = ""
            elif before != body:
                self._say(body if before is None else f"(sửa / edited) {_edit(before, body)}")
                user.shown[message.message_id] = body
                printed = True
        last = self._last(user)
        if printed and isinstance(last, TgMessage) and last.buttons:
            self._show_buttons([str(b.get("text", "")) for b in last.inline_buttons])

    def _show_buttons(self, texts: list[str]) -> None:
        """``[1] ✅ Tôi đồng ý  [2] ❌ Không đồng ý``, as many whole buttons a line as fit."""
        lines: list[str] = []
        for number, text in enumerate(texts, 1):
            item = f"[{number}] {text}"
            if lines and len(lines[-1]) + 2 + len(item) <= self.width:
                lines[-1] += "  " + item
            else:
                lines.append("   " + item)
        self.out("\n".join(lines))

    def _say(self, text: str) -> None:
        lines = text.splitlines() or [""]
        wrapped = []
        for n, line in enumerate(lines):
            first = "🤖 " if n == 0 else "   "
            wrapped.append(
                textwrap.fill(line, self.width, initial_indent=first, subsequent_indent="   ")
                or first.rstrip()
            )
        self.out("\n".join(wrapped))

    def _show_log(self, count: int) -> None:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        self.out("\n".join(text.splitlines()[-count:]) or "(nhật ký trống / empty log)")


async def read_stdin(prompt: str) -> str | None:
    """``input(prompt)`` in a daemon thread; None at the end of input (Ctrl-D).

    Unlike ``asyncio.to_thread``, a read still waiting never holds up the exit (Ctrl-C).
    """
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def deliver(line: str | None) -> None:
        if not answer.done():
            answer.set_result(line)

    def read() -> None:
        try:
            line: str | None = input(prompt)
        except (EOFError, OSError, ValueError):  # ValueError: stdin closed
            line = None
        with contextlib.suppress(RuntimeError):  # the loop is gone: we are exiting
            loop.call_soon_threadsafe(deliver, line)

    threading.Thread(target=read, name="demo-stdin", daemon=True).start()
    return await answer
