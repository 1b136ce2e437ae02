"""The person's language choice, stored under their pseudonym."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.storage import Profile, retrying_when_locked, utcnow


class LanguageChoice(NamedTuple):
    language: str | None
    chosen: bool


class Remembered(NamedTuple):
    """Everything kept about a person, read at once: what each message needs first."""

    choice: LanguageChoice
    safe_word: str | None  # the keyed hash of their own safe word (bot/privacy.py)


# Read for every message: built once (building and keying a statement costs more than running it).
_REMEMBERED = select(Profile.language, Profile.language_chosen, Profile.safe_word).where(
    Profile.pseudonym == bindparam("pseudonym"))


class Profiles:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def remembered(self, pseudonym: str) -> Remembered:
        """One query, in the caller's thread."""
        with Session(self._engine) as session:
            row = session.execute(_REMEMBERED, {"pseudonym": pseudonym}).first()
        if row is None:
            return Remembered(LanguageChoice(None, False), None)
        return Remembered(LanguageChoice(row[0], row[1]), row[2])

    def _language(self, pseudonym: str) -> LanguageChoice:
        return self.remembered(pseudonym).choice

    def _set_language(self, pseudonym: str, language: str, chosen: bool) -> None:
        def save() -> None:
            with Session(self._engine) as session, session.begin():
                session.merge(Profile(pseudonym=pseudonym, language=language,
                                      language_chosen=chosen, updated_at=utcnow()))

        retrying_when_locked(save)

    def _erase(self, pseudonym: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(delete(Profile).where(Profile.pseudonym == pseudonym))

    def _forget_language(self, pseudonym: str) -> None:
        def forget() -> None:
            with Session(self._engine) as session, session.begin():
                session.execute(delete(Profile).where(Profile.pseudonym == pseudonym,
                                                      Profile.safe_word.is_(None)))
                session.execute(update(Profile).where(Profile.pseudonym == pseudonym).values(
                    language=None, language_chosen=False, updated_at=utcnow()))

        retrying_when_locked(forget)

    async def language(self, pseudonym: str) -> LanguageChoice:
        return await asyncio.to_thread(self._language, pseudonym)

    async def set_language(self, pseudonym: str, language: str, chosen: bool) -> None:
        """chosen: the person picked it (never overridden); else inferred from their messages."""
        await asyncio.to_thread(self._set_language, pseudonym, language, chosen)

    async def forget_language(self, pseudonym: str) -> None:
        """Quick exit: the language goes back to the phone's; their safe word is kept (it
        protects them, and is only a keyed hash). Nothing is left when there is none."""
        await asyncio.to_thread(self._forget_language, pseudonym)

    async def erase(self, pseudonym: str) -> None:
        await asyncio.to_thread(self._erase, pseudonym)
