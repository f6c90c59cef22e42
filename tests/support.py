"""Test helpers: a recording channel and a chat that reads like a transcript."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.channels import Unreachable
from bot.matching import fold
from bot.messages import Channel, ChatKind, Incoming, Outgoing
from bot.zalo.channel import render_numbered

_ids = itertools.count(1000)


class MovableClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 22, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingChannel:
    """Records every delivered action, like a phone screen; can pretend to be blocked."""

    channel: Channel
    delivered: list[Outgoing] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)

    async def deliver(self, out: Outgoing) -> None:
        if out.chat_id in self.blocked:
            raise Unreachable("blocked")
        self.delivered.append(out)


@dataclass
class Chat:
    """One person talking to the bot on one channel, in process."""

    app: App
    channel: RecordingChannel
    user_id: str
    display_name: str = "Nguyễn Văn An"
    seen: int = 0

    @property
    def chat_id(self) -> str:
        return self.user_id

    async def _feed(self, incoming: Incoming) -> list[Outgoing]:
        await self.app.processor.accept(incoming)
        await self.app.processor.idle()
        await self.app.sender.drain()
        mine = [o for o in self.channel.delivered if o.chat_id == self.chat_id]
        new, self.seen = mine[self.seen :], len(mine)
        return new

    def _incoming(self, **kw: object) -> Incoming:
        base: dict[str, object] = {
            "channel": self.channel.channel,
            "update_key": str(next(_ids)),
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "received_at": datetime.now(UTC),
            "display_name": self.display_name,
        }
        base.update(kw)
        return Incoming(**base)  # type: ignore[arg-type]

    async def says(self, text: str, *, group: bool = False) -> list[Outgoing]:
        kind = ChatKind.GROUP if group else ChatKind.PRIVATE
        return await self._feed(self._incoming(text=text, chat_kind=kind))

    async def sends_photo(self) -> list[Outgoing]:
        return await self._feed(self._incoming(has_media=True))

    def last_question(self) -> Outgoing:
        for out in reversed(self.channel.delivered):
            if out.chat_id == self.chat_id and out.choices:
                return out
        raise AssertionError("no question with choices was sent")

    async def presses(self, label: str, *, on: Outgoing | None = None) -> list[Outgoing]:
        """Press the button whose label contains ``label`` (folded) on the last question."""
        question = on or self.last_question()
        wanted = fold(label)
        for choice in question.choices:
            if wanted in fold(choice.label):
                return await self._feed(
                    self._incoming(
                        callback_data=choice.key
                        if choice.is_action
                        else f"{question.nonce}:{choice.key}",
                        callback_id=str(next(_ids)),
                        message_ref=str(next(_ids)),
                    )
                )
        raise AssertionError(f"no button {label!r} in {[c.label for c in question.choices]}")

    async def repeat(self, incoming: Incoming) -> list[Outgoing]:
        return await self._feed(incoming)


def texts(outs: list[Outgoing]) -> str:
    """What the person sees, as one string (numbered menus rendered as on Zalo)."""
    return "\n---\n".join(render_numbered(o) for o in outs if o.kind in ("send", "edit") or o.text)
