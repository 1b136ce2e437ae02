"""The person's language choice, stored under their pseudonym."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.storage import Profile, utcnow


class Profiles:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _language(self, pseudonym: str) -> str | None:
        with Session(self._engine) as session:
            return session.execute(
                select(Profile.language).where(Profile.pseudonym == pseudonym)
            ).scalar_one_or_none()

    def _set_language(self, pseudonym: str, language: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.merge(Profile(pseudonym=pseudonym, language=language, updated_at=utcnow()))

    def _erase(self, pseudonym: str) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(delete(Profile).where(Profile.pseudonym == pseudonym))

    async def language(self, pseudonym: str) -> str | None:
        return await asyncio.to_thread(self._language, pseudonym)

    async def set_language(self, pseudonym: str, language: str) -> None:
        await asyncio.to_thread(self._set_language, pseudonym, language)

    async def erase(self, pseudonym: str) -> None:
        await asyncio.to_thread(self._erase, pseudonym)
