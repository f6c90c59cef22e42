"""How fast the sender may talk to a platform: pure arithmetic over clock readings.

Nothing here sleeps or does I/O. Callers pass ``now`` (seconds on a monotonic clock)
and get back how long to wait, so the rules are tested with made-up times.

Each budget is a :class:`Spacing`: it remembers when its next message is due at the
steady rate and lets a message go when that moment is at most ``burst - 1`` intervals
ahead (the "generic cell rate algorithm"; equivalent to a token bucket holding
``burst`` tokens). A :class:`ChannelPacing` combines one budget for the whole channel
with one per chat:

* bulk (reminders, broadcasts) keeps the steady rate in every chat, waits until a chat
  is quiet, and may run only one interval ahead on the channel, just enough to make up
  for a late timer;
* interactive replies are not held back by their chat's spacing: a person is waiting,
  a conversation rarely goes faster than Telegram's tolerated burst, and the rare 429
  delays only that chat. They still count, so bulk does not pile onto a busy chat. On
  the channel they may run a few intervals ahead, so a reply never waits behind bulk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bot.config import Settings

#: A chat's budget remembers at most this many messages: the platform refuses beyond a
#: short burst rather than keep count, so a chat is free again this many intervals after
#: a lively conversation at the latest.
CHAT_MEMORY = 3
#: Bulk may run one interval ahead on the channel: makes up for timers firing late.
CHANNEL_BURST_BULK = 2
#: Replies may run further ahead, so they go out at once even while bulk is at the limit.
CHANNEL_BURST_INTERACTIVE = 5
#: Added to every per-chat interval: our clock and the platform's differ by network jitter.
CHAT_MARGIN_SECONDS = 0.05
#: After a 429 the whole channel runs at this share of its rate for a little while.
SLOWDOWN_SHARE = 0.8
SLOWDOWN_SECONDS = 10.0


@dataclass
class Spacing:
    """One budget: a message every ``interval`` seconds, bursts of up to ``burst``."""

    interval: float
    due: float = -math.inf  # when the next message is due at the steady rate

    def wait(self, now: float, burst: int = 1) -> float:
        """Seconds until a message may go, allowing ``burst`` messages at once."""
        return max(0.0, self.due - (burst - 1) * self.interval - now)

    def take(self, now: float) -> None:
        """A message went out at ``now``."""
        self.due = max(self.due, now) + self.interval

    def give_back(self) -> None:
        """The message was refused before it counted (blocked chat, bad request)."""
        self.due -= self.interval

    def idle(self, now: float) -> bool:
        """Nothing owed: forgetting this budget changes no future wait."""
        return self.due <= now


@dataclass(frozen=True)
class Limits:
    """A channel's published limits, in the units the pacing needs."""

    per_second: float  # messages per second for the whole channel (math.inf: none)
    private_interval: float = 0.0  # seconds between messages to one private chat
    group_interval: float = 0.0  # seconds between messages to one group chat

    def chat_interval(self, chat_id: str) -> float:
        # Telegram group and channel ids are negative; private chats are the user's id.
        interval = self.group_interval if chat_id.startswith("-") else self.private_interval
        return interval + CHAT_MARGIN_SECONDS if interval > 0 else 0.0


def limits_for(channel: str, settings: Settings) -> Limits:
    """The limits the sender keeps on ``channel`` (no limit for a channel it does not know)."""
    if channel == "telegram":
        paid = settings.telegram_paid_broadcast
        return Limits(
            per_second=1000.0 if paid else settings.telegram_rate_per_second,
            private_interval=settings.telegram_private_chat_interval,
            group_interval=60.0 / settings.telegram_group_per_minute,
        )
    if channel == "zalo":
        return Limits(per_second=settings.zalo_rate_per_second)
    return Limits(per_second=math.inf)


@dataclass
class ChannelPacing:
    """The budgets of one channel: the channel as a whole and each chat."""

    limits: Limits
    #: Senders sharing this channel's limit (one bot token); each takes an equal part.
    senders: int = 1
    slow_until: float = -math.inf
    _channel: Spacing = field(init=False)
    _chats: dict[str, Spacing] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._channel = Spacing(self.channel_interval(-math.inf))

    def channel_interval(self, now: float) -> float:
        """Seconds between two messages on the channel, for this sender, at ``now``."""
        if math.isinf(self.limits.per_second):
            return 0.0
        rate = self.limits.per_second / max(1, self.senders)
        if now < self.slow_until:
            rate *= SLOWDOWN_SHARE
        return 1.0 / rate

    def chat_wait(self, chat_id: str, now: float, *, interactive: bool) -> float:
        """Seconds until this chat may get its next message (replies never wait here)."""
        chat = self._chats.get(chat_id)
        if chat is None or interactive:
            return 0.0
        return chat.wait(now)

    def channel_wait(self, now: float, *, interactive: bool) -> float:
        """Seconds until the channel has room for one more message."""
        self._pace_channel(now)
        burst = CHANNEL_BURST_INTERACTIVE if interactive else CHANNEL_BURST_BULK
        return self._channel.wait(now, burst)

    def wait(self, chat_id: str, now: float, *, interactive: bool) -> float:
        """Seconds until a message to ``chat_id`` may go (both budgets)."""
        return max(
            self.chat_wait(chat_id, now, interactive=interactive),
            self.channel_wait(now, interactive=interactive),
        )

    def take(self, chat_id: str, now: float) -> None:
        """A message to ``chat_id`` goes out at ``now``."""
        self._pace_channel(now)
        self._channel.take(now)
        interval = self.limits.chat_interval(chat_id)
        if interval > 0:
            chat = self._chats.setdefault(chat_id, Spacing(interval))
            chat.take(now)
            chat.due = min(chat.due, now + CHAT_MEMORY * interval)

    def give_back(self, chat_id: str, now: float) -> None:
        """The platform refused the message before counting it (403, 400): return the slot."""
        self._pace_channel(now)
        self._channel.give_back()
        chat = self._chats.get(chat_id)
        if chat is not None:
            chat.give_back()

    def retry_later(self, now: float, seconds: float) -> None:
        """A 429: the whole channel slows down for a short while, in case our pace was what
        tripped it. The chat itself waits through its row's not-before, not here."""
        self.slow_until = max(self.slow_until, now + min(seconds, SLOWDOWN_SECONDS))

    def _pace_channel(self, now: float) -> None:
        self._channel.interval = self.channel_interval(now)

    def forget_idle(self, now: float) -> int:
        """Drop the budgets of chats that owe nothing (memory stays bounded). Returns how many."""
        idle = [chat_id for chat_id, chat in self._chats.items() if chat.idle(now)]
        for chat_id in idle:
            del self._chats[chat_id]
        return len(idle)
