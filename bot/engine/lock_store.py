"""Which lock store keeps one conversation to one message at a time.

One process: Rasa's InMemoryLockStore. Several workers (PASSAGE_REDIS_URL): Rasa's
RedisLockStore, with each change of a conversation's ticket lock made by one Lua script in
Redis: atomic, and one round trip. Rasa's own class reads a lock, changes it and writes it back
in three steps, so two workers taking a ticket at the same moment can both get the same number
and both go ahead (https://github.com/RasaHQ/rasa/pull/3933: "this is far from atomic"); and
it does so with a blocking client, which holds up every other conversation of the worker for
each of its four round trips a message.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)

from bot.errors import UsageError

KEY_PREFIX = "passage"  # the keys are "passage:lock:<pseudonym>"
# How often a message waiting for its conversation looks again (Rasa's default: 1 s, which
# a person who sends two messages quickly would feel).
POLL_SECONDS = 0.05
NO_TICKET = -2  # a ticket number never issued (they start at 0; -1 means "expired")

# One change of a conversation's TicketLock, stored as Rasa stores it (JSON whose tickets are
# JSON strings), with Redis's clock, so that every worker agrees on which tickets expired.
# KEYS: the lock. ARGV: "take", "look" or "give back"; the conversation id; the lifetime (take)
# or the ticket. take -> {ticket, ticket now served}; look -> ticket now served, -1 when the
# caller's ticket expired; give back -> the lock goes once no ticket is left.
_TICKETS = """
local mode, conversation, arg = ARGV[1], ARGV[2], tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tickets, mine = {}, false
local stored = redis.call('GET', KEYS[1])
if stored then
  for _, raw in ipairs(cjson.decode(stored).tickets or {}) do
    local ticket = cjson.decode(raw)
    if ticket.expires >= now and not (mode == 'give back' and ticket.number == arg) then
      tickets[#tickets + 1] = ticket
      mine = mine or ticket.number == arg
    end
  end
end
if mode == 'look' then
  if not mine then return -1 end
  return tickets[1].number
end
local number = nil
if mode == 'take' then
  number = (#tickets > 0 and tickets[#tickets].number or -1) + 1
  tickets[#tickets + 1] = {number = number, expires = now + arg}
end
if #tickets == 0 then
  redis.call('DEL', KEYS[1])
  return nil
end
local raw = {}
for i, ticket in ipairs(tickets) do
  raw[i] = cjson.encode({number = ticket.number, expires = ticket.expires})
end
local value = cjson.encode({conversation_id = conversation, tickets = raw})
if number then
  redis.call('SET', KEYS[1], value, 'PX', math.ceil(arg * 1000))
  return {number, tickets[1].number}
end
redis.call('SET', KEYS[1], value, 'KEEPTTL')
return nil
"""


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket changes are Lua scripts, and whose `lock()` (what Rasa's
    Agent takes around each message) waits on Redis without blocking the event loop."""

    def __init__(self, url: str, **connection: Any) -> None:
        """url: what `connection` (RedisLockStore's arguments) was read from."""
        super().__init__(**connection)
        self._url = url
        self._tickets = self.red.register_script(_TICKETS)
        self._async: tuple[asyncio.AbstractEventLoop, Any] | None = None

    def _async_tickets(self) -> Any:
        """The script on an asyncio client of the running loop (a client's connections belong
        to the loop that opened them)."""
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            import redis.asyncio

            client = redis.asyncio.Redis.from_url(
                self._url, socket_timeout=DEFAULT_SOCKET_TIMEOUT_IN_SECONDS)
            self._async = (loop, client.register_script(_TICKETS))
        return self._async[1]

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            ticket, _ = self._tickets(keys=[self.key_prefix + conversation_id],
                                      args=["take", conversation_id, lock_lifetime])
        except Exception as error:  # what Rasa's LockStore.issue_ticket raises
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        return int(ticket)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets (giving back a ticket nobody holds)."""
        self.cleanup(conversation_id, NO_TICKET)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back; the lock goes when nobody else holds a ticket."""
        self._tickets(keys=[self.key_prefix + conversation_id],
                      args=["give back", conversation_id, ticket_number])

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = POLL_SECONDS
                   ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ticket lock: a ticket, then wait until it is the one served, then give it
        back; two round trips when nobody else is in this conversation."""
        tickets, key = self._async_tickets(), self.key_prefix + conversation_id
        try:
            ticket, served = await tickets(keys=[key],
                                           args=["take", conversation_id, lock_lifetime])
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        try:
            while served != ticket:
                if served == -1:  # it expired while others were served
                    raise LockError(
                        f"Could not acquire lock for conversation_id '{conversation_id}'.")
                await asyncio.sleep(wait_time_in_seconds)
                served = await tickets(keys=[key], args=["look", conversation_id, ticket])
            yield TicketLock(conversation_id,
                             deque([Ticket(ticket, time.time() + lock_lifetime)]))
        finally:
            await tickets(keys=[key], args=["give back", conversation_id, ticket])


def without_credentials(url: str) -> str:
    """The URL to show in a message: whatever stands before its last @ (user, password, even
    a password with a / or an @ in it) becomes ***."""
    before, at, after = url.rpartition("@")
    if not at:
        return url
    scheme, slashes, _ = before.partition("//")
    return f"{scheme}{slashes}***@{after}" if slashes else f"***@{after}"


def redis_lock_store(url: str) -> AtomicRedisLockStore:
    """redis://[[user]:password@]host[:port][/db] (rediss:// for TLS); db 0 by default."""
    parts = urlsplit(url)
    shown = without_credentials(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise UsageError(f"PASSAGE_REDIS_URL must look like redis://host:6379/0, got {shown!r}")
    try:
        port = parts.port or 6379
        db = int(parts.path.strip("/") or 0)
    except ValueError:
        raise UsageError(
            f"PASSAGE_REDIS_URL: not a port or database number in {shown!r}") from None
    return AtomicRedisLockStore(
        url, host=parts.hostname, port=port, db=db,
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
