"""Chores one worker does for all: sending the desk's outbox, the desk's timeouts, retention.

With several workers, two sending the outbox at once would send a message twice, or two
messages to one chat in the wrong order. So one worker at a time holds the chore; a worker that
wants it done while another holds it leaves a note and goes on with its own update, and the
holder goes round once more when it finds the note. No worker waits for another, nothing is
left undone: the note is written before trying to take the chore, and read after letting it
go.

One process: ``LocalChore``, a lock. Several (PASSAGE_REDIS_URL): ``RedisChore``, the chore
a Redis key with a lifetime, so a worker that dies holding it frees it in ``LEASE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol

logger = logging.getLogger(__name__)

LEASE_SECONDS = 60  # far longer than one round of the outbox (at most 100 messages)

Work = Callable[[], Awaitable[None]]


class Chore(Protocol):
    async def run(self, work: Work) -> None:
        """Do ``work``, or make sure whoever is doing it goes round once more."""


class LocalChore:
    """One process: whoever asks waits for the one doing it, then does it (the outbox is
    empty when ``run`` returns)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def run(self, work: Work) -> None:
        async with self._lock:
            await work()


_LET_GO = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisChore:
    """The same chore for every worker that uses the same Redis and name: note, then try to
    take it; whoever holds it goes round again while it finds a note. When Redis does not
    answer, the chore is skipped this time (the next update or round tries again)."""

    def __init__(self, redis: object, name: str, lease_seconds: int = LEASE_SECONDS) -> None:
        self._redis = redis
        self._lease_key, self._note_key = f"passage:chore:{name}", f"passage:chore:{name}:wanted"
        self._lease_ms = lease_seconds * 1000
        self._token = secrets.token_hex(8)
        self._let_go_script = redis.register_script(_LET_GO)

    async def run(self, work: Work) -> None:
        import redis

        try:
            await self._note()
            while await self._noted() and await self._take():
                try:
                    await self._clear_note()
                    await work()
                finally:
                    await self._let_go()
        except redis.RedisError as error:
            logger.warning("a shared chore was skipped, Redis did not answer: %s",
                           type(error).__name__)

    async def _note(self) -> None:
        await self._redis.set(self._note_key, 1, px=self._lease_ms)

    async def _noted(self) -> bool:
        return bool(await self._redis.exists(self._note_key))

    async def _clear_note(self) -> None:
        await self._redis.delete(self._note_key)

    async def _take(self) -> bool:
        return bool(await self._redis.set(self._lease_key, self._token, nx=True,
                                          px=self._lease_ms))

    async def _let_go(self) -> None:
        await self._let_go_script(keys=[self._lease_key], args=[self._token])


def chore_for(redis_client: object | None, name: str) -> Chore:
    return RedisChore(redis_client, name) if redis_client is not None else LocalChore()
