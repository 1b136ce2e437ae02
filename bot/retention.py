"""Nothing is kept longer than it must be. Once a day the running bot, and `passage purge`
for a bot that is not running, delete what is older than the retention period
(PASSAGE_RETENTION_DAYS, default 30): conversations, relayed messages, notes and case
events; open cases nobody touched that long are closed and emptied (bot/desk/sweeper.py);
a profile (language, safe word) goes once nothing else of its person is left. The ids of
chat messages go once they are too old for Telegram to delete (48 hours). A survivor who
has not written for the retention period leaves behind only case numbers with a language,
a status and times: nothing that says who they were or what they wrote."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.desk.models import Case
from bot.desk.sweeper import expire as expire_cases
from bot.desk.sweeper import purge as purge_desk
from bot.privacy import TELEGRAM_DELETE_WINDOW
from bot.storage import ChatMessage, Conversation, Profile


@dataclass(frozen=True)
class Purged:
    conversations: int
    desk_messages: int
    expired_cases: int
    profiles: int


class Retention:
    def __init__(self, engine: Engine, period: timedelta) -> None:
        self._engine = engine
        self.period = period

    def purge_now(self, now: datetime) -> Purged:
        before = now - self.period
        with Session(self._engine) as session, session.begin():
            conversations = session.execute(
                delete(Conversation).where(Conversation.updated_at < before)).rowcount
            expired_cases = expire_cases(session, before, now)
            desk_messages = purge_desk(session, before)
            session.execute(delete(ChatMessage).where(
                ChatMessage.at < now - TELEGRAM_DELETE_WINDOW))
            profiles = session.execute(delete(Profile).where(
                Profile.updated_at < before, *_nothing_else_left_of_the_person())
                .execution_options(synchronize_session=False)).rowcount
        return Purged(conversations, desk_messages, expired_cases, profiles)

    async def purge(self, now: datetime) -> Purged:
        return await asyncio.to_thread(self.purge_now, now)


def _nothing_else_left_of_the_person() -> list[ColumnElement[bool]]:
    """A profile is not purged while its person has a conversation, a case or chat message
    ids still kept: those are younger than the retention period (or they would be gone), so
    the person wrote within it and keeps their language and safe word."""
    return [~exists().where(table_pseudonym == Profile.pseudonym)
            for table_pseudonym in (Conversation.pseudonym, Case.survivor, ChatMessage.pseudonym)]
