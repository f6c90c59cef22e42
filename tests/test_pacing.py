"""Pacing arithmetic with made-up clock readings: no sleeping, no I/O."""

from __future__ import annotations

import math

import pytest

from bot.config import Settings
from bot.pacing import (
    CHAT_MARGIN_SECONDS,
    CHAT_MEMORY,
    SLOWDOWN_SECONDS,
    SLOWDOWN_SHARE,
    ChannelPacing,
    Limits,
    Spacing,
    limits_for,
)


def settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg, arg-type]


def send_all(pacing: ChannelPacing, chats: list[str], *, interactive: bool) -> list[float]:
    """Send one message to each chat in turn as early as allowed; the send times."""
    now, times = 0.0, []
    for chat in chats:
        now += pacing.wait(chat, now, interactive=interactive)
        pacing.take(chat, now)
        times.append(now)
    return times


def most_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_spacing_allows_a_burst_then_the_steady_rate() -> None:
    spacing = Spacing(interval=1.0)
    for _ in range(3):
        assert spacing.wait(10.0, burst=3) == 0.0
        spacing.take(10.0)
    assert spacing.wait(10.0, burst=3) == pytest.approx(1.0)
    assert spacing.wait(10.0) == pytest.approx(3.0)  # bulk waits until nothing is owed
    spacing.give_back()
    assert spacing.wait(10.0, burst=3) == 0.0
    assert not spacing.idle(11.9) and spacing.idle(12.0)


def test_bulk_runs_at_the_channel_rate_and_never_above_it() -> None:
    pacing = ChannelPacing(Limits(per_second=30.0))
    times = send_all(pacing, [str(i) for i in range(300)], interactive=False)
    steady = (len(times) - 1) / (times[-1] - times[0])
    assert steady == pytest.approx(30.0, rel=0.01)
    # One interval of catch-up at most: never more than the rate plus two in any second.
    assert most_in_window(times, 1.0) <= 32


def test_a_reply_goes_ahead_while_bulk_is_at_the_limit() -> None:
    pacing = ChannelPacing(Limits(per_second=30.0))
    now = 0.0
    for i in range(60):  # bulk running flat out
        now += pacing.channel_wait(now, interactive=False)
        pacing.take(str(i), now)
    assert pacing.channel_wait(now, interactive=False) > 0
    assert pacing.channel_wait(now, interactive=True) == 0.0
    pacing.take("reply-chat", now)
    # ... and bulk pays for it afterwards: the channel total stays at the rate.
    assert pacing.channel_wait(now, interactive=False) == pytest.approx(2 / 30)


def test_private_chat_bulk_is_spaced_and_replies_are_not_held_back() -> None:
    pacing = ChannelPacing(Limits(per_second=math.inf, private_interval=1.0))
    interval = 1.0 + CHAT_MARGIN_SECONDS
    pacing.take("42", 0.0)
    assert pacing.chat_wait("42", 0.0, interactive=False) == pytest.approx(interval)
    assert pacing.chat_wait("43", 0.0, interactive=False) == 0.0  # other chats are free
    for _ in range(3):  # a conversation: replies go at once ...
        assert pacing.chat_wait("42", 0.0, interactive=True) == 0.0
        pacing.take("42", 0.0)
    # ... and count: bulk waits until the chat is quiet again,
    assert pacing.chat_wait("42", 0.0, interactive=False) == pytest.approx(CHAT_MEMORY * interval)
    for _ in range(20):
        pacing.take("42", 0.0)
    # ... but no longer than the platform remembers a burst.
    assert pacing.chat_wait("42", 0.0, interactive=False) == pytest.approx(CHAT_MEMORY * interval)


def test_group_chats_get_their_own_slower_interval() -> None:
    limits = limits_for("telegram", settings(telegram_group_per_minute=20))
    assert limits.chat_interval("-1001234") == pytest.approx(3.0 + CHAT_MARGIN_SECONDS)
    assert limits.chat_interval("1234") == pytest.approx(1.0 + CHAT_MARGIN_SECONDS)


def test_limits_come_from_the_settings() -> None:
    assert limits_for("telegram", settings()).per_second == 30.0
    assert limits_for("telegram", settings(telegram_paid_broadcast=True)).per_second == 1000.0
    zalo = limits_for("zalo", settings(zalo_rate_per_second=7))
    assert zalo.per_second == 7.0 and zalo.chat_interval("abc") == 0.0
    assert math.isinf(limits_for("carrier-pigeon", settings()).per_second)
    off = limits_for("telegram", settings(telegram_private_chat_interval=0))
    assert off.chat_interval("1") == 0.0


def test_a_429_slows_the_channel_briefly() -> None:
    pacing = ChannelPacing(Limits(per_second=10.0))
    assert pacing.channel_interval(0.0) == pytest.approx(0.1)
    pacing.retry_later(5.0, seconds=3.0)
    assert pacing.channel_interval(6.0) == pytest.approx(0.1 / SLOWDOWN_SHARE)
    assert pacing.channel_interval(8.0) == pytest.approx(0.1)
    pacing.retry_later(20.0, seconds=600.0)  # a long wait slows the channel only a while
    assert pacing.channel_interval(20.0 + SLOWDOWN_SECONDS) == pytest.approx(0.1)


def test_senders_sharing_a_channel_split_its_rate() -> None:
    pacing = ChannelPacing(Limits(per_second=30.0), senders=2)
    assert pacing.channel_interval(0.0) == pytest.approx(1 / 15)


def test_a_refused_message_gives_its_slot_back() -> None:
    pacing = ChannelPacing(Limits(per_second=10.0, private_interval=1.0))
    pacing.take("7", 0.0)
    pacing.take("8", 0.0)
    pacing.give_back("8", 0.0)
    assert pacing.channel_wait(0.0, interactive=False) == 0.0
    assert pacing.chat_wait("8", 0.0, interactive=False) == 0.0


def test_idle_chats_are_forgotten() -> None:
    pacing = ChannelPacing(Limits(per_second=math.inf, private_interval=1.0))
    pacing.take("1", 0.0)
    pacing.take("2", 5.0)
    assert pacing.forget_idle(5.5) == 1
    assert pacing.chat_wait("2", 5.5, interactive=False) > 0
