"""A Rasa tracker store that keeps every conversation encrypted at rest.

Rasa's SQLTrackerStore writes user texts in plain columns; here each tracker is one
encrypted value (the `conversations.tracker` column), keyed by the person's pseudonym.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.storage import Conversation, utcnow


class EncryptedSQLTrackerStore(TrackerStore, SerializedTrackerAsText):
    def __init__(self, engine: Engine, domain: Domain | None = None) -> None:
        super().__init__(domain)
        self._engine = engine

    def _save(self, tracker: DialogueStateTracker) -> None:
        serialised = self.serialise_tracker(tracker)
        with Session(self._engine) as session, session.begin():
            session.merge(
                Conversation(pseudonym=tracker.sender_id, tracker=serialised, updated_at=utcnow())
            )

    def _load(self, sender_id: str) -> str | None:
        with Session(self._engine) as session:
            return session.execute(
                select(Conversation.tracker).where(Conversation.pseudonym == sender_id)
            ).scalar_one_or_none()

    def _delete(self, sender_id: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(delete(Conversation).where(Conversation.pseudonym == sender_id))

    def _keys(self) -> list[str]:
        with Session(self._engine) as session:
            return list(session.execute(select(Conversation.pseudonym)).scalars())

    async def save(self, tracker: DialogueStateTracker) -> None:
        await asyncio.to_thread(self._save, tracker)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        plaintext = await asyncio.to_thread(self._load, sender_id)
        return None if plaintext is None else self.deserialise_tracker(sender_id, plaintext)

    async def delete(self, sender_id: str) -> None:
        await asyncio.to_thread(self._delete, sender_id)

    async def keys(self) -> Iterable[str]:
        return await asyncio.to_thread(self._keys)
