"""What protects a survivor whose phone someone else may read: the ids of their chat's messages
(so quick exit can delete them) and their safe word (kept only as a keyed hash)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.storage import ChatMessage, Profile, retrying_when_locked, utcnow
from encryption import Crypto
from services_directory.places import fold

TELEGRAM_DELETE_WINDOW = timedelta(hours=48)  # a bot may delete private-chat messages this long
_NOT_A_LETTER = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def exit_words() -> frozenset[str]:
    """/exit, the Exit button's label and the word "exit", in every language."""
    from bot.i18n import SUPPORTED_LANGUAGES, translations

    words = {"exit"}
    for language in SUPPORTED_LANGUAGES:
        _ = translations(language).gettext
        # Translators: one word a person types to leave the chat at once ("exit").
        words.update({normalized_word(_("exit")), normalized_word(_("🚪 Exit"))})
    return frozenset(words - {""})


def is_exit_request(text: str) -> bool:
    words = text.strip()
    if words.split("@")[0].lower() == "/exit":
        return True
    return len(words) <= 30 and normalized_word(words) in exit_words()


def normalized_word(text: str) -> str:
    """How a safe word compares: case, accents, spaces and punctuation do not matter."""
    return _NOT_A_LETTER.sub("", fold(text))


class Privacy:
    def __init__(self, engine: Engine, crypto: Crypto, default_safe_word: str | None) -> None:
        self._engine = engine
        self._crypto = crypto
        self._default = self._shared_hash(default_safe_word) if default_safe_word else None

    def _hash(self, pseudonym: str, word: str) -> str:
        """A person's own safe word, hashed with who they are: two people who chose the same
        word do not have the same hash (nor does one word tried against the key fit them all)."""
        return self._crypto.pseudonym(f"safe-word:{pseudonym}", normalized_word(word))

    def _shared_hash(self, word: str) -> str:
        """The same for everyone: the organisation's word, and own words set before hashes
        were per person (they still match until the person sets a word again; the word itself
        was never kept, so they cannot be re-hashed without it)."""
        return self._crypto.pseudonym("safe-word", normalized_word(word))

    # --- message ids for quick exit -------------------------------------------------------
    def _remember(self, pseudonym: str, message_ids: list[int]) -> None:
        with self._engine.begin() as connection:  # every message: no ORM unit of work
            connection.execute(insert(ChatMessage), [
                {"pseudonym": pseudonym, "message_id": m, "at": utcnow()} for m in message_ids])

    def _take_deletable(self, pseudonym: str) -> list[int]:
        def take() -> list[int]:
            with Session(self._engine) as session, session.begin():
                ids = session.execute(select(ChatMessage.message_id).where(
                    ChatMessage.pseudonym == pseudonym,
                    ChatMessage.at >= utcnow() - TELEGRAM_DELETE_WINDOW)).scalars().all()
                session.execute(delete(ChatMessage).where(ChatMessage.pseudonym == pseudonym))
            return sorted(set(ids))

        return retrying_when_locked(take)

    async def remember(self, pseudonym: str, message_ids: list[int]) -> None:
        if message_ids:
            await asyncio.to_thread(self._remember, pseudonym, message_ids)

    async def take_deletable(self, pseudonym: str) -> list[int]:
        """The chat's messages Telegram still lets the bot delete; forgotten once taken."""
        return await asyncio.to_thread(self._take_deletable, pseudonym)

    # --- the safe word ----------------------------------------------------------------------
    def _set_safe_word(self, pseudonym: str, word: str) -> None:
        with Session(self._engine) as session, session.begin():
            if session.get(Profile, pseudonym) is None:
                session.add(Profile(pseudonym=pseudonym, updated_at=utcnow()))
                session.flush()
            session.execute(update(Profile).where(Profile.pseudonym == pseudonym)
                            .values(safe_word=self._hash(pseudonym, word)))

    def _is_safe_word(self, pseudonym: str, text: str) -> bool:
        with Session(self._engine) as session:
            own = session.execute(select(Profile.safe_word).where(
                Profile.pseudonym == pseudonym)).scalar_one_or_none()
        return self.matches_safe_word(pseudonym, text, own)

    def matches_safe_word(self, pseudonym: str, text: str, own: str | None) -> bool:
        """Whether text is the safe word of this person, given the hash of their own (None:
        the default, if any). No database: the caller has read their profile already. A safe
        word is a word or two, never a whole message."""
        if len(text) > 40 or not normalized_word(text):
            return False
        shared = self._shared_hash(text)
        if own is not None and own in (self._hash(pseudonym, text), shared):
            return True
        return self._default is not None and shared == self._default

    async def set_safe_word(self, pseudonym: str, word: str) -> None:
        await asyncio.to_thread(self._set_safe_word, pseudonym, word)

    async def is_safe_word(self, pseudonym: str, text: str) -> bool:
        return await asyncio.to_thread(self._is_safe_word, pseudonym, text)

    def _erase(self, pseudonym: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(delete(ChatMessage).where(ChatMessage.pseudonym == pseudonym))

    async def erase(self, pseudonym: str) -> None:
        await asyncio.to_thread(self._erase, pseudonym)
