"""A Rasa tracker store that keeps every conversation encrypted at rest.

Rasa's SQLTrackerStore writes user texts in plain columns; here each tracker is one
encrypted value (the `conversations.tracker` column), keyed by the person's pseudonym.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable

from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.storage import Conversation, retrying_when_locked, utcnow
from services_directory.geo import coarse_point


def scrub_shared_locations(serialised: str) -> str:
    """A shared location arrives as `/share_location{"location": "lat,lon"}`; it was used for
    the search. What is stored keeps only the centre of its ~5 km² cell."""
    if "share_location" not in serialised:
        return serialised
    data = json.loads(serialised)
    for event in data.get("events") or []:
        if event.get("event") != "user" or not str(event.get("text")).startswith(
                "/share_location"):
            continue
        event["text"] = "/share_location"
        parse_data = event.get("parse_data") or {}
        parse_data["text"] = "/share_location"
        for entity in parse_data.get("entities") or []:
            if entity.get("entity") == "location":
                entity["value"] = _coarse(str(entity.get("value")))
    return json.dumps(data)


def _coarse(value: str) -> str | None:
    try:
        lat, lon = (float(part) for part in value.split(","))
        centre_lat, centre_lon = coarse_point(lat, lon)
        return f"{centre_lat:.4f},{centre_lon:.4f}"
    except (ValueError, TypeError):
        return None


class EncryptedSQLTrackerStore(TrackerStore, SerializedTrackerAsText):
    def __init__(self, engine: Engine, domain: Domain | None = None) -> None:
        super().__init__(domain)
        self._engine = engine

    def _save(self, tracker: DialogueStateTracker) -> None:
        serialised = scrub_shared_locations(self.serialise_tracker(tracker))

        def save() -> None:
            with Session(self._engine) as session, session.begin():
                session.merge(Conversation(pseudonym=tracker.sender_id, tracker=serialised,
                                           updated_at=utcnow()))

        retrying_when_locked(save)

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

    async def is_paused(self, sender_id: str) -> bool:
        """Whether the conversation is with a caseworker, read from the stored text without
        rebuilding the tracker (this is asked for every message)."""
        text = await asyncio.to_thread(self._load, sender_id)
        if text is None:
            return False
        return text.rfind('"event": "pause"') > text.rfind('"event": "resume"')

    async def delete(self, sender_id: str) -> None:
        await asyncio.to_thread(self._delete, sender_id)

    async def keys(self) -> Iterable[str]:
        return await asyncio.to_thread(self._keys)
