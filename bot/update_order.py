"""Many people at once, each person's messages in order.

python-telegram-bot handles one update at a time unless told otherwise; then a slow database
write or NLU run for one person holds up everyone. This processor runs updates of different
chats concurrently and those of one chat strictly one after another, in the order they came
(asyncio locks wake their waiters first come, first served)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
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
