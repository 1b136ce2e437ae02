"""PASSAGE_REDIS_URL: one conversation is never processed by two workers at once."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockError
from sqlalchemy.engine import Engine

from bot.engine.lock_store import AtomicRedisLockStore, lock_store_for, redis_lock_store
from bot.engine.tracker_store import EncryptedSQLTrackerStore
from bot.errors import UsageError
from tests.backends.conftest import engine_with


def test_the_redis_url_becomes_the_lock_stores_connection():
    store = redis_lock_store("rediss://worker:s%40cret@redis.internal:6380/3")
    kwargs = store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("redis.internal", 6380, 3)
    assert (kwargs["username"], kwargs["password"]) == ("worker", "s@cret")
    assert store.red.connection_pool.connection_class.__name__ == "SSLConnection"
    assert store.key_prefix == "passage:lock:"
    assert isinstance(lock_store_for(None), InMemoryLockStore)
    with pytest.raises(UsageError, match="redis://host:6379/0"):
        redis_lock_store("http://localhost:6379")
    with pytest.raises(UsageError, match="cannot reach Redis at 127.0.0.1:1 "):
        lock_store_for("redis://127.0.0.1:1/0")


def test_tickets_taken_at_the_same_moment_by_two_workers_are_all_different(redis_url: str):
    """Rasa's RedisLockStore reads, changes and writes a lock in three steps: two workers
    could both get ticket 0 and both go ahead. Here each change is one transaction."""
    workers = [redis_lock_store(redis_url), redis_lock_store(redis_url)]
    conversation = f"race-{uuid.uuid4().hex}"
    start = threading.Barrier(16)
    tickets: list[int] = []

    def take(store: AtomicRedisLockStore) -> None:
        start.wait()
        tickets.append(store.issue_ticket(conversation))

    threads = [threading.Thread(target=take, args=(workers[n % 2],)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(16))
    for ticket in tickets:
        workers[ticket % 2].cleanup(conversation, ticket)
    assert workers[0].get_lock(conversation) is None  # the last one out removed the lock


async def test_a_lock_left_by_a_worker_that_died_lets_the_next_message_go(redis_url: str):
    """A worker killed mid-message never gives its ticket back: the conversation's next
    message waits until that ticket's lifetime is over, then goes; a message that waited
    longer than its own lifetime is refused, not let in beside another."""
    store = redis_lock_store(redis_url)
    conversation = f"died-{uuid.uuid4().hex}"
    store.issue_ticket(conversation, lock_lifetime=0.3)  # its holder died
    started = time.monotonic()
    async with store.lock(conversation, wait_time_in_seconds=0.02):
        waited = time.monotonic() - started
        assert store.red.pttl(store.key_prefix + conversation) > 30_000  # ours now
    assert 0.25 < waited < 2
    assert store.get_lock(conversation) is None  # given back, nothing left in Redis

    holder = store.issue_ticket(conversation, lock_lifetime=5)
    with pytest.raises(LockError):
        async with store.lock(conversation, lock_lifetime=0.2, wait_time_in_seconds=0.02):
            pass
    store.cleanup(conversation, holder)
    assert store.get_lock(conversation) is None


async def test_two_workers_answer_one_person_one_message_at_a_time(
        redis_url: str, postgres: Engine, passage):  # noqa: ANN001 - a Passage
    """Two engines, each with its own connections (two workers), get a message from the
    same person at the same moment: both turns are kept, one after the other. Without a
    shared lock both would read the same conversation and the last to save would drop the
    other's turn."""
    workers = [engine_with(passage, EncryptedSQLTrackerStore(postgres), redis_lock_store(redis_url))
               for _ in range(2)]
    person = f"pg-redis-{uuid.uuid4().hex}"
    for _ in range(3):
        await asyncio.gather(workers[0].handle(person, "/greet"),
                             workers[1].handle(person, "/help"))
    tracker = await EncryptedSQLTrackerStore(postgres, workers[0]._agent.domain).retrieve(person)
    events = [event.as_dict() for event in tracker.events]
    turns = [i for i, event in enumerate(events) if event["event"] == "user"]
    assert sorted(events[i]["text"] for i in turns) == ["/greet"] * 3 + ["/help"] * 3
    # Each turn was finished (the bot listening again) before the next one began.
    for turn in turns[1:]:
        before = [e for e in events[:turn] if e["event"] == "action"]
        assert before[-1]["name"] == "action_listen", events[:turn]
    await workers[0].forget(person)
