"""One process: the shared chores (outbox, timeouts) never run twice at once, and whoever
asks finds the work done when the call returns (the Redis version: tests/backends)."""

import asyncio

import pytest

from bot.shared_work import LocalChore


async def test_one_at_a_time_and_done_when_run_returns():
    chore = LocalChore()
    outbox = ["a"]
    sent: list[str] = []
    running = 0

    async def send() -> None:
        nonlocal running
        running += 1
        assert running == 1
        while outbox:
            await asyncio.sleep(0.01)
            sent.append(outbox.pop(0))
        running -= 1

    first = asyncio.create_task(chore.run(send))
    await asyncio.sleep(0.005)  # the first is sending
    outbox.append("b")
    await chore.run(send)
    assert sent == ["a", "b"] and outbox == []
    await first


async def test_a_failing_chore_lets_go():
    chore = LocalChore()
    done: list[int] = []

    async def broken() -> None:
        raise RuntimeError("network")

    async def fine() -> None:
        done.append(1)

    with pytest.raises(RuntimeError):
        await chore.run(broken)
    await chore.run(fine)
    assert done == [1]
