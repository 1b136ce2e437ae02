"""The bot's own tables (profiles, encrypted conversations) and the shared database engine."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Boolean, Column, DateTime, Integer, String, create_engine, event, false
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import declarative_base
from sqlalchemy.pool import QueuePool

from bot.settings import private_file
from encryption.columns import EncryptedText, bind_rows

Base = declarative_base()
bind_rows(Base)  # encrypted values bound to their row (encryption/columns.py)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Profile(Base):
    """What the bot remembers about a person between conversations: their language and the
    hash of their safe word."""

    __tablename__ = "profiles"

    pseudonym = Column(String(64), primary_key=True)
    language = Column(String(8))
    # True when the person chose the language; False when Passage inferred it from messages.
    language_chosen = Column(Boolean, nullable=False, default=False, server_default=false())
    # A keyed hash of the person's own safe word (bot/privacy.py); NULL: the default, if any.
    safe_word = Column(String(64))
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Conversation(Base):
    """A Rasa tracker, encrypted as one value, keyed by the person's pseudonym."""

    __tablename__ = "conversations"

    pseudonym = Column(String(64), primary_key=True)
    tracker = Column(EncryptedText("conversations.tracker", row_key="pseudonym"), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ChatMessage(Base):
    """The id of a message in a person's chat (theirs or the bot's), kept for 48 hours so that
    quick exit can delete the chat from their phone. Ids only: never the text."""

    __tablename__ = "chat_messages"

    id = Column(Integer, primary_key=True)
    pseudonym = Column(String(64), nullable=False, index=True)
    message_id = Column(Integer, nullable=False)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


def make_engine(url: str) -> Engine:
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return create_engine(url, future=True, hide_parameters=True)
    private_file(Path(url.removeprefix("sqlite:///")))  # 0600: SQLite's -wal and -shm follow
    # SQLAlchemy 1.4 opens a new SQLite connection per transaction (NullPool) and the last one
    # to close checkpoints the WAL: ~1.3 ms per small write. A pool of open connections and
    # synchronous=NORMAL (durable across a crash of the process in WAL mode; a power cut may
    # lose the last commits) make it ~0.06 ms (benchmarks/load.py's profile).
    engine = create_engine(url, future=True, hide_parameters=True, poolclass=QueuePool,
                           pool_size=5, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    return engine


def all_metadata() -> list:
    """Every schema Passage keeps in its database (what migrations and key rotation cover)."""
    import bot.desk.models  # noqa: F401 - registers the desk's tables on Base.metadata
    from encryption import keystore
    from services_directory.store import ALL_METADATA

    return [Base.metadata, keystore.metadata, *ALL_METADATA]


def create_tables(engine: Engine, key_file: Path | None = None) -> None:
    """Create or upgrade every table through the migrations (migrations/); key_file: for a
    migration that encrypts values already there."""
    from bot.migrations import upgrade

    upgrade(engine, key_file)


T = TypeVar("T")


def retrying_when_locked(work: Callable[[], T], attempts: int = 5) -> T:
    """Run a transaction again when SQLite says "database is locked". In WAL mode a
    transaction that read first and then writes fails at once (busy_timeout does not apply)
    if another connection wrote in between; with many chats at once that happens."""
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as error:
            if "locked" not in str(error.orig) or attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")
