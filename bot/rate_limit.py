"""A per-person rate limit: a token bucket for each pseudonym.

Each person has a bucket of BURST messages that refills at REFILL_PER_SECOND. A message that
finds the bucket empty is refused: the first refusal of a burst is answered once, politely
(``SLOW_DOWN``); the rest of the burst is dropped in silence (``DROP``), so 100 messages in a
second cost 100 cheap checks, not 100 NLU runs and 100 replies. The edge decides what to let
through anyway (danger words).

Buckets live in this process's memory (``MemoryRateLimit``). Everything else talks to the
``RateLimit`` protocol, the seam for a shared store: with several bot processes the same
bucket can live in Redis (one small Lua script doing what ``MemoryRateLimit.check`` does,
keyed by the pseudonym, expiring after BURST / REFILL_PER_SECOND seconds).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

BURST = 20  # at once: quick taps through menus, a few lines sent one by one, a pasted list
REFILL_PER_SECOND = 1.0  # then one message a second: faster than anyone reads the answers
MAX_BUCKETS = 100_000  # past this, full buckets (equal to no bucket at all) are forgotten


class Verdict(enum.Enum):
    ALLOW = "allow"
    SLOW_DOWN = "slow_down"  # refused; say so once
    DROP = "drop"  # refused; already said so in this burst


class RateLimit(Protocol):
    async def check(self, key: str) -> Verdict:
        """Take one message from ``key``'s bucket."""
        ...


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False  # told to slow down in this burst (until the bucket is full again)


class MemoryRateLimit:
    """Token buckets in a dict; ``clock`` is injectable for tests."""

    def __init__(self, burst: int = BURST, refill_per_second: float = REFILL_PER_SECOND,
                 clock: Callable[[], float] = time.monotonic,
                 max_buckets: int = MAX_BUCKETS) -> None:
        self.burst, self.refill_per_second = burst, refill_per_second
        self._clock, self._max_buckets = clock, max_buckets
        self._buckets: dict[str, _Bucket] = {}

    async def check(self, key: str) -> Verdict:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_buckets:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst),
                            bucket.tokens + (now - bucket.updated) * self.refill_per_second)
        bucket.updated = now
        if bucket.tokens >= self.burst:
            bucket.warned = False  # a quiet spell ended the burst
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.ALLOW
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.SLOW_DOWN

    def _forget_full(self, now: float) -> None:
        full_after = self.burst / self.refill_per_second
        self._buckets = {key: bucket for key, bucket in self._buckets.items()
                         if now - bucket.updated < full_after}
