"""Nothing is kept longer than it must be: conversations, relayed messages and notes older
than the retention period (PASSAGE_RETENTION_DAYS, default 30) are deleted by `passage purge`
and, once a day, by the running bot; the ids of chat messages once they are too old for
Telegram to delete (48 hours)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.desk.sweeper import purge as purge_desk
from bot.privacy import TELEGRAM_DELETE_WINDOW
from bot.storage import ChatMessage, Conversation


@dataclass(frozen=True)
class Purged:
    conversations: int
    desk_messages: int


class Retention:
    def __init__(self, engine: Engine, period: timedelta) -> None:
        self._engine = engine
        self.period = period

    def purge_now(self, now: datetime) -> Purged:
        before = now - self.period
        with Session(self._engine) as session, session.begin():
            conversations = session.execute(
                delete(Conversation).where(Conversation.updated_at < before)).rowcount
            desk_messages = purge_desk(session, before)
            session.execute(delete(ChatMessage).where(
                ChatMessage.at < now - TELEGRAM_DELETE_WINDOW))
        return Purged(conversations, desk_messages)

    async def purge(self, now: datetime) -> Purged:
        return await asyncio.to_thread(self.purge_now, now)
