"""The per-person rate limit in Redis: what MemoryRateLimit does, shared by every worker."""

from __future__ import annotations

import uuid

from bot.rate_limit import (
    BURST,
    URGENT_BURST,
    MemoryRateLimit,
    RedisRateLimit,
    Verdict,
    rate_limit_for,
    urgent_rate_limit_for,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_redis_buckets_give_the_verdicts_memory_buckets_give(redis_url: str):
    clock = Clock()
    limits = [MemoryRateLimit(burst=3, refill_per_second=1, clock=clock),
              RedisRateLimit(redis_url, burst=3, refill_per_second=1, clock=clock)]
    person = f"rate-{uuid.uuid4().hex}"
    verdicts: list[list[Verdict]] = [[], []]
    for step in [0, 0, 0, 0, 0, 0.5, 0.5, 1, 0, 0, 10, 0, 0, 0, 0, 2.25, 0]:
        clock.now += step
        for verdict, limit in zip(verdicts, limits, strict=True):
            verdict.append(await limit.check(person))
    assert verdicts[1] == verdicts[0]
    assert {Verdict.ALLOW, Verdict.SLOW_DOWN, Verdict.DROP} <= set(verdicts[1])
    await limits[1].close()


async def test_two_workers_share_one_bucket_and_one_warning(redis_url: str):
    workers = [RedisRateLimit(redis_url, burst=4), RedisRateLimit(redis_url, burst=4)]
    person = f"rate-{uuid.uuid4().hex}"
    verdicts = [await workers[n % 2].check(person) for n in range(8)]
    assert verdicts == [Verdict.ALLOW] * 4 + [Verdict.SLOW_DOWN] + [Verdict.DROP] * 3
    assert await workers[0].check(f"rate-{uuid.uuid4().hex}") is Verdict.ALLOW  # another person
    for worker in workers:
        await worker.close()


async def test_without_redis_nobody_is_held_back():
    limit = rate_limit_for("redis://127.0.0.1:1/0")
    assert isinstance(limit, RedisRateLimit)
    assert [await limit.check("someone") for _ in range(30)] == [Verdict.ALLOW] * 30
    assert isinstance(rate_limit_for(None), MemoryRateLimit)


async def test_danger_and_exit_have_their_own_bounded_bucket_in_redis(redis_url: str):
    ordinary, urgent = rate_limit_for(redis_url), urgent_rate_limit_for(redis_url)
    person = f"rate-{uuid.uuid4().hex}"
    assert [await ordinary.check(person) for _ in range(BURST)] == [Verdict.ALLOW] * BURST
    verdicts = [await urgent.check(person) for _ in range(150)]  # the ordinary one is empty
    assert verdicts == ([Verdict.ALLOW] * URGENT_BURST + [Verdict.SLOW_DOWN]
                        + [Verdict.DROP] * (149 - URGENT_BURST))
    for limit in (ordinary, urgent):
        await limit.close()
