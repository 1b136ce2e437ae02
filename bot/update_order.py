"""Many people at once, each person's messages in order.

python-telegram-bot handles one update at a time unless told otherwise; then a slow database
write or NLU run for one person holds up everyone. This processor runs updates of different
chats concurrently and those of one chat strictly one after another, in the order they came
(asyncio locks wake their waiters first come, first served). With several workers
(PASSAGE_REDIS_URL), RedisChatOrder keeps that order across processes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 32


class PerChatOrder(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[Any, asyncio.Lock] = {}
        self._users: dict[Any, int] = {}  # how many updates hold or wait for a chat's lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = getattr(getattr(update, "effective_chat", None), "id", None)
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._users[chat] = self._users.get(chat, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[chat] -= 1
            if not self._users[chat]:  # nobody else waits: forget the chat
                del self._users[chat], self._locks[chat]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


# One step of RedisChatOrder, atomic in Redis: join the chat's queue (once per update_id; a
# second delivery of the same update is refused), drop a head whose worker stopped answering,
# and say who is first. KEYS: queue, alive prefix, and to join this delivery's "seen" key;
# ARGV: update_id, lifetime (s), "join" or "look".
_ORDER_STEP = """
local queue, me, lifetime = KEYS[1], ARGV[1], tonumber(ARGV[2])
if ARGV[3] == 'join' then
  if not redis.call('SET', KEYS[3], 1, 'NX', 'EX', 3600) then return 'seen' end
  redis.call('ZADD', queue, tonumber(me), me)
  redis.call('EXPIRE', queue, lifetime)
  redis.call('SET', KEYS[2] .. me, 1, 'EX', lifetime)
end
while true do
  local head = redis.call('ZRANGE', queue, 0, 0)[1]
  if head == nil or head == me or redis.call('EXISTS', KEYS[2] .. head) == 1 then
    return head or me
  end
  redis.call('ZREM', queue, head)
end
"""


class RedisChatOrder(BaseUpdateProcessor):
    """Several workers (PASSAGE_REDIS_URL): one chat's updates one at a time, lowest update_id
    first, whichever worker each landed on; an update delivered twice is handled once.

    Each chat has a line in Redis ordered by update_id; an update goes when it is first in
    line and leaves the line when done. It joins the line before its webhook request is
    answered (``LinedUpUpdates``): Telegram sends a chat's next update only once the previous
    one was answered, so the earlier update is always in line first, whichever worker has it.
    A worker that dies mid-update holds its chat for at most ``lifetime`` seconds. Chats are
    keyed by ``key_of(chat_id)`` (a keyed hash: Redis never holds a Telegram id); ``prefix``
    keeps bots that share a Redis apart."""

    def __init__(self, redis_client: Any, key_of: Callable[[int], str], *, seen_key: bytes,
                 max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
                 poll_seconds: float = 0.005, lifetime: int = 60,
                 prefix: str = "passage:order:") -> None:
        super().__init__(max_concurrent_updates)
        self._redis, self._key_of, self._prefix = redis_client, key_of, prefix
        self._seen_key = seen_key
        self._poll, self._lifetime = poll_seconds, lifetime
        self._step = redis_client.register_script(_ORDER_STEP)
        # update ids in line, not yet being handled here -> whether they were first in line
        # (then they still are: only earlier updates can be ahead, and those only leave)
        self._joined: dict[str, bool] = {}

    def _line(self, update: object) -> tuple[list[str], str] | None:
        chat = getattr(getattr(update, "effective_chat", None), "id", None)
        update_id = getattr(update, "update_id", None)
        if chat is None or update_id is None:
            return None
        queue = f"{self._prefix}{self._key_of(chat)}"
        return [queue, f"{self._prefix}alive:"], str(update_id)

    def _seen(self, update: object, me: str) -> str:
        """The update_id and what the update says: a delivery Telegram repeats is the same
        update; a test server that starts its update ids again sends different ones. What it
        says is hashed with a secret key (``seen_key``): someone who reads Redis cannot confirm
        a guess of what somebody wrote."""
        to_json = getattr(update, "to_json", None)
        content = hmac.new(self._seen_key, (to_json() if to_json else "").encode(),
                           hashlib.sha256).hexdigest()[:16]
        return f"{self._prefix}seen:{me}:{content}"

    async def join(self, update: object) -> bool:
        """Take the update's place in its chat's line; False if it was delivered before."""
        line = self._line(update)
        if line is None:
            return True
        keys, me = line
        joined = await self._step(keys=[*keys, self._seen(update, me)],
                                  args=[me, self._lifetime, "join"])
        if _text(joined) == "seen":
            return False
        self._joined[me] = _text(joined) == me
        return True

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        line = self._line(update)
        if line is None:
            await coroutine
            return
        keys, me = line
        if me not in self._joined and not await self.join(update):  # delivered before
            coroutine.close()  # type: ignore[attr-defined]
            return
        first = self._joined.pop(me)
        head = me if first else await self._step(keys=keys, args=[me, self._lifetime, "look"])
        started = False
        try:
            while _text(head) != me:
                await asyncio.sleep(self._poll)
                head = await self._step(keys=keys, args=[me, self._lifetime, "look"])
            started = True
            await coroutine
        finally:
            if not started:  # cancelled while waiting
                coroutine.close()  # type: ignore[attr-defined]
            leave = self._redis.pipeline(transaction=False)  # one round trip
            leave.zrem(keys[0], me)
            leave.delete(f"{keys[1]}{me}")
            await leave.execute()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def seen_key_for(token: str) -> bytes:
    """The key of RedisChatOrder's "seen" hashes, the same in every worker of the bot: derived
    from its token, which whoever reads Redis does not hold."""
    return hmac.new(token.encode(), b"passage update seen", hashlib.sha256).digest()


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class LinedUpUpdates(asyncio.Queue):
    """python-telegram-bot's update queue, whose ``put`` (awaited by the webhook server before
    it answers Telegram) first gives the update its place in its chat's line; an update
    delivered again is answered and dropped."""

    def __init__(self, order: RedisChatOrder) -> None:
        super().__init__()
        self._order = order

    async def put(self, item: object) -> None:
        if await self._order.join(item):
            await super().put(item)
