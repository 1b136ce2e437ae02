"""Several workers through Redis: one chat's updates in update_id order whichever worker got
them, a repeated delivery handled once, and the shared chores done by one worker at a time."""

from __future__ import annotations

import asyncio
import random
import secrets
from types import SimpleNamespace

import pytest
import redis.asyncio

from bot.shared_work import RedisChore
from bot.update_order import LinedUpUpdates, RedisChatOrder


def update(chat: int, update_id: int) -> SimpleNamespace:
    return SimpleNamespace(effective_chat=SimpleNamespace(id=chat), update_id=update_id)


@pytest.fixture
async def workers(redis_url: str):
    """Three workers' processors, each with its own Redis connection, under a fresh prefix."""
    prefix = f"passage:test{secrets.token_hex(4)}:order:"
    clients = [redis.asyncio.Redis.from_url(redis_url) for _ in range(3)]
    yield [RedisChatOrder(c, lambda chat: f"chat{chat}", seen_key=b"test", prefix=prefix,
                          lifetime=5)
           for c in clients], clients[0], prefix
    for client in clients:
        await client.close()


async def test_one_chat_in_update_order_across_workers(workers):
    processors, _, _ = workers
    handled: list[tuple[int, int]] = []
    busy: dict[int, int] = {}
    overlaps: list[int] = []
    first_started, go_on = asyncio.Event(), asyncio.Event()

    async def work(chat: int, update_id: int, hold: bool = False) -> None:
        busy[chat] = busy.get(chat, 0) + 1
        if busy[chat] > 1:
            overlaps.append(update_id)
        if hold:
            first_started.set()
            await go_on.wait()
        await asyncio.sleep(random.uniform(0, 0.01))
        handled.append((chat, update_id))
        busy[chat] -= 1

    # Update 10 of chat 1 is being handled; 11-20 arrive meanwhile, shuffled, on any worker.
    first = asyncio.create_task(processors[0].process_update(update(1, 10), work(1, 10, True)))
    await first_started.wait()
    later = list(range(11, 21))
    random.shuffle(later)
    tasks = [asyncio.create_task(processors[i % 3].process_update(update(1, u), work(1, u)))
             for i, u in enumerate(later)]
    # another chat is not held up by chat 1
    await asyncio.wait_for(processors[1].process_update(update(2, 15), work(2, 15)), 2)
    await asyncio.sleep(0.05)
    assert [u for c, u in handled if c == 1] == []
    go_on.set()
    await asyncio.wait_for(asyncio.gather(first, *tasks), 10)
    assert [u for c, u in handled if c == 1] == list(range(10, 21))
    assert overlaps == []


async def test_an_update_delivered_twice_is_handled_once(workers):
    processors, _, _ = workers
    handled: list[int] = []

    async def work(update_id: int) -> None:
        await asyncio.sleep(0.01)
        handled.append(update_id)

    await asyncio.gather(*(p.process_update(update(3, 7), work(7)) for p in processors))
    await processors[0].process_update(update(3, 7), work(7))
    assert handled == [7]


async def test_a_worker_that_died_mid_update_holds_its_chat_only_for_a_while(workers):
    processors, client, prefix = workers
    handled: list[int] = []

    async def work(update_id: int) -> None:
        handled.append(update_id)

    # A worker took update 5 of chat 4 and died: its entry stays, its "alive" key expires.
    await client.zadd(f"{prefix}chat4", {"5": 5})
    await client.set(f"{prefix}alive:5", 1, px=300)
    await asyncio.wait_for(processors[1].process_update(update(4, 6), work(6)), 3)
    assert handled == [6]


async def test_a_chore_is_done_by_one_worker_at_a_time_and_none_is_lost(redis_url: str):
    name = f"test{secrets.token_hex(4)}"
    clients = [redis.asyncio.Redis.from_url(redis_url) for _ in range(3)]
    chores = [RedisChore(c, name) for c in clients]
    outbox = list(range(40))
    sent: list[int] = []
    running = 0
    overlaps = 0

    async def send_outbox() -> None:
        nonlocal running, overlaps
        running += 1
        overlaps += running > 1
        while outbox:
            sent.append(outbox.pop(0))
            await asyncio.sleep(0.001)
        running -= 1

    async def worker(index: int) -> None:
        for item in range(40, 100):
            if item % 3 == index:  # this worker's update wrote a message, then sends
                outbox.append(item)
                await chores[index].run(send_outbox)
                await asyncio.sleep(random.uniform(0, 0.002))

    await asyncio.gather(*(worker(i) for i in range(3)))
    assert overlaps == 0
    assert outbox == []  # nothing left behind by a worker that found the chore taken
    assert sorted(sent) == list(range(100)) and len(sent) == 100
    for client in clients:
        await client.close()


async def test_an_update_answered_to_telegram_is_in_line_before_the_next_arrives(workers):
    """Telegram sends a chat's next update once the previous webhook request was answered;
    the answer waits for LinedUpUpdates.put, so update 1, still queued inside worker A, goes
    before update 2 that worker B already has in hand."""
    processors, _, _ = workers
    handled: list[int] = []
    queue_of_a = LinedUpUpdates(processors[0])

    async def work(update_id: int) -> None:
        handled.append(update_id)

    await queue_of_a.put(update(5, 1))  # answered to Telegram; A has not got to it yet
    second = asyncio.create_task(processors[1].process_update(update(5, 2), work(2)))
    await asyncio.sleep(0.1)
    assert handled == []  # B waits for A's update
    await processors[0].process_update(await queue_of_a.get(), work(1))
    await asyncio.wait_for(second, 2)
    assert handled == [1, 2]
    await queue_of_a.put(update(5, 1))  # Telegram delivered it again: answered, dropped
    assert queue_of_a.empty()


async def test_a_different_update_with_a_used_id_is_not_taken_for_a_repeat(workers):
    """A Bot API server that starts its update ids again (a test server, a new bot) is not
    ignored: a repeat is the same update, not just the same number."""
    processors, _, _ = workers
    handled: list[str] = []

    def sent(text: str) -> SimpleNamespace:
        return SimpleNamespace(effective_chat=SimpleNamespace(id=6), update_id=1,
                               to_json=lambda: f'{{"update_id": 1, "text": "{text}"}}')

    async def work(text: str) -> None:
        handled.append(text)

    await processors[0].process_update(sent("hola"), work("hola"))
    await processors[1].process_update(sent("hola"), work("hola"))  # Telegram's repeat
    await processors[2].process_update(sent("otra vez"), work("otra vez"))  # a new one
    assert handled == ["hola", "otra vez"]
