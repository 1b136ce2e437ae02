"""A per-person rate limit: a token bucket for each pseudonym.

Each person has a bucket of BURST messages that refills at REFILL_PER_SECOND. A message that
finds the bucket empty is refused: the first refusal of a burst is answered once, politely
(``SLOW_DOWN``); the rest of the burst is dropped in silence (``DROP``), so 100 messages in a
second cost 100 cheap checks, not 100 NLU runs and 100 replies.

Danger and quick exit have a bucket of their own (``urgent_rate_limit_for``): URGENT_BURST at
once, then one every URGENT_SECONDS. It is generous (someone in danger who keeps writing is
fully answered, with the emergency numbers, at least every URGENT_SECONDS, never less than once
a minute), and it is bounded: a message that merely looks like danger cannot buy one account
unlimited understanding, writes, and the bot-wide send budget other people's replies need.

Buckets live in this process's memory (``MemoryRateLimit``) or, with several bot processes,
in Redis (``RedisRateLimit``: one small Lua script doing what ``MemoryRateLimit.check`` does,
keyed by the pseudonym, expiring after BURST / REFILL_PER_SECOND seconds). Everything else
talks to the ``RateLimit`` protocol; ``rate_limit_for`` picks one from PASSAGE_REDIS_URL.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

BURST = 20  # at once: quick taps through menus, a few lines sent one by one, a pasted list
REFILL_PER_SECOND = 1.0  # then one message a second: faster than anyone reads the answers
URGENT_BURST = 10  # danger and quick exit: ten at once, whatever the ordinary bucket holds
URGENT_SECONDS = 3.0  # then one every three seconds
MAX_BUCKETS = 100_000  # past this, full buckets (equal to no bucket at all) are forgotten

logger = logging.getLogger(__name__)


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


# MemoryRateLimit.check, in Redis: one atomic step whichever worker asks. The time is Redis's
# own, so workers whose clocks differ share one bucket. A bucket left alone is full again after
# burst / refill seconds, and then it expires (a full bucket is the same as none).
_CHECK_SCRIPT = """
local burst, refill = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) + tonumber(time[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'warned')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
local warned = state[3] == '1'
tokens = math.min(burst, tokens + math.max(0, now - updated) * refill)
if tokens >= burst then warned = false end
local verdict
if tokens >= 1 then
  tokens, verdict = tokens - 1, 'allow'
elseif warned then
  verdict = 'drop'
else
  warned, verdict = true, 'slow_down'
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now),
           'warned', warned and '1' or '0')
redis.call('EXPIRE', KEYS[1], math.ceil(burst / refill) + 1)
return verdict
"""


class RedisRateLimit:
    """The buckets in Redis (PASSAGE_REDIS_URL), shared by every worker; ``clock`` only for
    tests (else Redis's time). When Redis does not answer, the message goes through: a
    person is never held back because a cache is down."""

    def __init__(self, url: str, burst: int = BURST,
                 refill_per_second: float = REFILL_PER_SECOND,
                 clock: Callable[[], float] | None = None, prefix: str = "passage:rate:") -> None:
        import redis.asyncio

        self.burst, self.refill_per_second = burst, refill_per_second
        self._clock, self._prefix = clock, prefix
        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=2)
        self._script = self._redis.register_script(_CHECK_SCRIPT)

    async def check(self, key: str) -> Verdict:
        import redis

        now = [] if self._clock is None else [repr(self._clock())]
        try:
            verdict = await self._script(keys=[self._prefix + key],
                                         args=[self.burst, self.refill_per_second, *now])
        except redis.RedisError as error:
            logger.warning("rate limit not checked, Redis did not answer: %s",
                           type(error).__name__)
            return Verdict.ALLOW
        return Verdict(verdict.decode() if isinstance(verdict, bytes) else verdict)

    async def close(self) -> None:
        await self._redis.close()


def rate_limit_for(redis_url: str | None) -> RateLimit:
    """Redis when several workers share the bot (PASSAGE_REDIS_URL), else this process."""
    return RedisRateLimit(redis_url) if redis_url else MemoryRateLimit()


def urgent_rate_limit_for(redis_url: str | None) -> RateLimit:
    """The bucket of danger and quick exit, beside the ordinary one (see the module's doc)."""
    if redis_url:
        return RedisRateLimit(redis_url, URGENT_BURST, 1 / URGENT_SECONDS,
                              prefix="passage:rate:urgent:")
    return MemoryRateLimit(URGENT_BURST, 1 / URGENT_SECONDS)
