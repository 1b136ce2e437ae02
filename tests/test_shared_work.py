"""One process: the shared chores (outbox, timeouts) never run twice at once and never miss
work asked for while they were running."""

import asyncio

import pytest

from bot.shared_work import LocalChore


async def test_work_asked_for_while_running_is_done_by_the_runner():
    chore = LocalChore()
    runs: list[str] = []
    started, go_on = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        runs.append("first")
        started.set()
        await go_on.wait()

    async def second() -> None:
        runs.append("second")

    running = asyncio.create_task(chore.run(first))
    await started.wait()
    await chore.run(second)  # returns at once: the chore is taken, a note is left
    assert runs == ["first"]
    go_on.set()
    await running
    assert runs == ["first", "first"]  # the holder went round once more for the note


async def test_a_failing_chore_lets_go():
    chore = LocalChore()

    async def broken() -> None:
        raise RuntimeError("network")

    async def fine() -> None:
        done.append(1)

    done: list[int] = []
    with pytest.raises(RuntimeError):
        await chore.run(broken)
    await chore.run(fine)
    assert done == [1]
