"""What a channel adapter offers the sender, and how delivery can fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.messages import Channel, Incoming, Outgoing

# Stores an incoming update durably; False for a repeat. Adapters call it for every update.
Accept = Callable[[Incoming], Awaitable[bool]]


class DeliveryError(Exception):
    """Base of the outcomes the sender knows how to handle."""


class RetryLater(DeliveryError):
    """The platform asked us to slow down (Telegram 429, Zalo quota)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """The person blocked the bot: stop sending to this chat."""


class Transient(DeliveryError):
    """A network error or a 5xx: try again later, a bounded number of times."""


class Rejected(DeliveryError):
    """The platform refused this message (400): retrying will not help."""


class ChannelAdapter(Protocol):
    channel: Channel

    async def deliver(self, out: Outgoing) -> None:
        """Perform one outgoing action or raise a ``DeliveryError``."""
        ...
