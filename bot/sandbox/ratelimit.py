"""Token buckets: the rate limits the fake servers put on bot sends.

A bucket holds up to ``capacity`` tokens and gains ``rate`` tokens per second.
Each accepted call takes one token; a call that finds the bucket empty is told
how long to wait. Several buckets (global, per chat) are checked together with
:func:`acquire_all`, which takes a token from each only when all have one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

Clock = Callable[[], float]


@dataclass
class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``rate`` tokens per second."""

    rate: float
    capacity: float
    clock: Clock = time.monotonic
    _tokens: float = field(init=False, repr=False)
    _stamp: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity < 1:
            raise ValueError("a token bucket needs rate > 0 and capacity >= 1")
        self._tokens = float(self.capacity)
        self._stamp = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0.0 if one is available now)."""
        self._refill()
        if self._tokens >= 1.0:
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def take(self) -> None:
        """Remove one token; call only after :meth:`wait_time` returned 0."""
        self._tokens -= 1.0

    def try_acquire(self) -> float:
        """Take a token if there is one and return 0.0, else return the wait in seconds."""
        return acquire_all([self])


class KeyedBuckets(Generic[K]):
    """One lazily created :class:`TokenBucket` per key (for example per chat)."""

    def __init__(self, rate: float, capacity: float, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._buckets: dict[K, TokenBucket] = {}

    def __getitem__(self, key: K) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.capacity, self._clock)
            self._buckets[key] = bucket
        return bucket


def acquire_all(buckets: Iterable[TokenBucket]) -> float:
    """Take one token from every bucket, or from none of them.

    Returns 0.0 when the tokens were taken, otherwise the number of seconds
    until every bucket has a token again.
    """
    chosen = list(buckets)
    wait = max((bucket.wait_time() for bucket in chosen), default=0.0)
    if wait > 0.0:
        return wait
    for bucket in chosen:
        bucket.take()
    return 0.0


def retry_after(wait: float) -> int:
    """Whole seconds to announce in a 429 answer: the wait rounded up, at least 1."""
    return max(1, math.ceil(wait))
