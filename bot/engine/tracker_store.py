"""A Rasa tracker store that keeps every conversation encrypted at rest.

Rasa's SQLTrackerStore writes user texts in plain columns; here each tracker is one
encrypted value (the `conversations.tracker` column), keyed by the person's pseudonym.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Iterator

from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ConversationResumed
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.engine.recent_turns import events_to_store
from bot.storage import Conversation, retrying_when_locked, utcnow
from encryption.columns import RowBound
from services_directory.geo import coarse_point


def as_stored(data: dict) -> dict:
    """What of a conversation may be written: no shared point (scrub_shared_locations) and no
    place found for it (scrub_found_places)."""
    return scrub_found_places(scrub_shared_locations(data))


def scrub_shared_locations(data: dict) -> dict:
    """A shared location arrives as `/share_location{"location": "lat,lon"}`; it was used for
    the search. What is stored keeps only the centre of its ~5 km² cell. Changes the
    serialisable dialogue (Dialogue.as_dict()) in place, before it is ever written as text."""
    for event in data.get("events") or []:
        if event.get("event") != "user" or not str(event.get("text")).startswith(
                "/share_location"):
            continue
        event["text"] = "/share_location"
        # Copies: the dialogue shares parse data and entities with the live tracker.
        if parse_data := event.get("parse_data"):
            parse_data = event["parse_data"] = {**parse_data, "text": "/share_location"}
            if entities := parse_data.get("entities"):
                parse_data["entities"] = [
                    {**entity, "value": _coarse(str(entity.get("value")))}
                    if entity.get("entity") == "location" else entity for entity in entities]
    return data


def scrub_found_places(data: dict) -> dict:
    """The places a search found are said once, in the reply sent at the time, and never
    stored: their exact distances (to 0.1 km), or even their order by distance, would let
    someone work out the point searched from, which only the ~5 km² cell of is kept. A stored
    answer keeps its message key, need and area, which is all later turns read (the
    fallback reads the key). Changes the dialogue in place, with copies of what it shares
    with the live tracker (whose reply may still be being rendered)."""
    for event in data.get("events") or []:
        if event.get("event") != "bot":
            continue
        custom = (event.get("data") or {}).get("custom")
        if isinstance(custom, dict) and "services" in custom:
            kept = {key: value for key, value in custom.items() if key != "services"}
            event["data"] = {**event["data"], "custom": kept}
    return data


def _coarse(value: str) -> str | None:
    try:
        lat, lon = (float(part) for part in value.split(","))
        centre_lat, centre_lon = coarse_point(lat, lon)
        return f"{centre_lat:.4f},{centre_lon:.4f}"
    except (ValueError, TypeError):
        return None


# Run for every message: built once (building and keying a statement costs more than running it).
_LOAD = select(Conversation.tracker).where(Conversation.pseudonym == bindparam("pseudonym"))
_UPDATE = (update(Conversation).where(Conversation.pseudonym == bindparam("who"))
           .values(tracker=bindparam("new_tracker"), updated_at=bindparam("at")))
_INSERT = insert(Conversation).values(pseudonym=bindparam("who"),
                                      tracker=bindparam("new_tracker"),
                                      updated_at=bindparam("at"))


class EncryptedSQLTrackerStore(TrackerStore, SerializedTrackerAsText):
    def __init__(self, engine: Engine, domain: Domain | None = None) -> None:
        super().__init__(domain)
        self._engine = engine
        self._resuming: dict[str, int] = {}  # sender -> their messages being handled

    @contextlib.contextmanager
    def resuming(self, sender_id: str) -> Iterator[None]:
        """While a message of theirs is handled, a conversation paused for a caseworker is
        resumed as Rasa loads it (under its lock): back from a caseworker, it goes on where it
        was, slots and all, at no extra read and decryption of the stored tracker."""
        self._resuming[sender_id] = self._resuming.get(sender_id, 0) + 1
        try:
            yield
        finally:
            self._resuming[sender_id] -= 1
            if not self._resuming[sender_id]:
                del self._resuming[sender_id]

    def _save(self, tracker: DialogueStateTracker) -> None:
        dialogue = Dialogue(tracker.sender_id, events_to_store(tracker))  # bounded
        serialised = json.dumps(as_stored(dialogue.as_dict()))

        def save() -> None:  # an update, or an insert the first time (no read first)
            values = {"who": tracker.sender_id, "at": utcnow(),
                      "new_tracker": RowBound(serialised, tracker.sender_id)}
            with self._engine.begin() as connection:
                if not connection.execute(_UPDATE, values).rowcount:
                    connection.execute(_INSERT, values)

        retrying_when_locked(save)

    def _load(self, sender_id: str) -> str | None:
        with self._engine.connect() as connection:
            return connection.execute(_LOAD, {"pseudonym": sender_id}).scalar_one_or_none()

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
        if plaintext is None:
            return None
        tracker = self.deserialise_tracker(sender_id, plaintext)
        if tracker is not None and sender_id in self._resuming and tracker.is_paused():
            tracker.update(ConversationResumed())
        return tracker

    async def delete(self, sender_id: str) -> None:
        await asyncio.to_thread(self._delete, sender_id)

    async def keys(self) -> Iterable[str]:
        return await asyncio.to_thread(self._keys)
