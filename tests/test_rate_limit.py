"""The per-person token bucket: a burst goes through, then one "slow down", then silence."""

from bot.rate_limit import BURST, MemoryRateLimit, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_then_one_slow_down_then_silence():
    limit = MemoryRateLimit(burst=BURST, refill_per_second=1, clock=Clock())
    verdicts = [await limit.check("a") for _ in range(100)]
    assert verdicts[:BURST] == [Verdict.ALLOW] * BURST
    assert verdicts[BURST] is Verdict.SLOW_DOWN
    assert set(verdicts[BURST + 1:]) == {Verdict.DROP}


async def test_people_have_their_own_buckets():
    limit = MemoryRateLimit(burst=2, refill_per_second=1, clock=Clock())
    for _ in range(5):
        await limit.check("a")
    assert await limit.check("b") is Verdict.ALLOW


async def test_it_refills_and_a_new_burst_is_told_again():
    clock = Clock()
    limit = MemoryRateLimit(burst=2, refill_per_second=1, clock=clock)
    assert [await limit.check("a") for _ in range(4)] == [
        Verdict.ALLOW, Verdict.ALLOW, Verdict.SLOW_DOWN, Verdict.DROP]
    clock.now += 1  # one message a second gets through, the burst goes on: no second warning
    assert [await limit.check("a") for _ in range(2)] == [Verdict.ALLOW, Verdict.DROP]
    clock.now += 10  # a quiet spell: full again
    assert [await limit.check("a") for _ in range(3)] == [
        Verdict.ALLOW, Verdict.ALLOW, Verdict.SLOW_DOWN]


async def test_memory_stays_bounded_by_forgetting_full_buckets():
    clock = Clock()
    limit = MemoryRateLimit(burst=2, refill_per_second=1, clock=clock, max_buckets=10)
    for n in range(10):
        await limit.check(f"old{n}")
    clock.now += 5
    await limit.check("new")
    assert len(limit._buckets) == 1
