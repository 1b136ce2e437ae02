"""Which lock store keeps one conversation to one message at a time.

One process: Rasa's InMemoryLockStore. Several workers (PASSAGE_REDIS_URL): Rasa's
RedisLockStore, with each change of a conversation's ticket lock made as one Redis
transaction. Rasa's own class reads a lock, changes it and writes it back in three steps, so
two workers taking a ticket at the same moment can both get the same number and both go
ahead (https://github.com/RasaHQ/rasa/pull/3933: "this is far from atomic").
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)

from bot.errors import UsageError

T = TypeVar("T")
KEY_PREFIX = "passage"  # the keys are "passage:lock:<pseudonym>"
# How often a message waiting for its conversation looks again (Rasa's default: 1 s, which
# a person who sends two messages quickly would feel).
POLL_SECONDS = 0.05


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket changes are optimistic Redis transactions (WATCH/MULTI)."""

    def _change(self, conversation_id: str,
                change: Callable[[TicketLock | None], tuple[TicketLock | None, T]]) -> T:
        """Apply `change` to the stored lock (None: there is none) and store what it returns
        (None: delete), as one transaction; again from the start if the lock changed meanwhile."""
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    new_lock, result = change(lock)
                    pipe.multi()
                    if new_lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new_lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # what Rasa's LockStore.issue_ticket raises
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        def without_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, without_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back; the lock goes when nobody else holds a ticket."""

        def finished(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, finished)

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = POLL_SECONDS
                   ) -> AsyncGenerator[TicketLock, None]:
        async with super().lock(conversation_id, lock_lifetime,
                                wait_time_in_seconds) as ticket_lock:
            yield ticket_lock


def redis_lock_store(url: str) -> AtomicRedisLockStore:
    """redis://[[user]:password@]host[:port][/db] (rediss:// for TLS); db 0 by default."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise UsageError(f"PASSAGE_REDIS_URL must look like redis://host:6379/0, got {url!r}")
    try:
        port = parts.port or 6379
        db = int(parts.path.strip("/") or 0)
    except ValueError:
        raise UsageError(f"PASSAGE_REDIS_URL: not a port or database number in {url!r}") from None
    return AtomicRedisLockStore(
        host=parts.hostname, port=port, db=db,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_ssl=parts.scheme == "rediss", key_prefix=KEY_PREFIX)


def lock_store_for(redis_url: str | None) -> LockStore:
    """Redis when a URL is configured (checked now: a wrong one is one clear line at start)."""
    if not redis_url:
        return InMemoryLockStore()
    import redis

    store = redis_lock_store(redis_url)
    try:
        store.red.ping()
    except redis.RedisError as error:
        where = urlsplit(redis_url)
        raise UsageError(f"cannot reach Redis at {where.hostname}:{where.port or 6379} "
                         f"(PASSAGE_REDIS_URL): {error}") from None
    return store
