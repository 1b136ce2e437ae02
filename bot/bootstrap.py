"""Assemble Passage from settings: keys, database, directory, Rasa agent."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.errors import ModelNotFoundError
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.conversation import Passage


def open_storage(settings: Settings) -> Engine:
    """The database with its tables, and the keys that decrypt it installed for this process."""
    import encryption
    from bot.storage import create_tables, make_engine
    from encryption.keystore import open_crypto
    from encryption.master_key import MasterKey

    engine = make_engine(settings.database_url)
    MasterKey.load(settings.key_file)  # a missing or unreadable key file changes nothing
    create_tables(engine, settings.key_file)
    encryption.install(open_crypto(settings.key_file, engine))
    return engine


def build_passage(settings: Settings, with_desk: bool = True) -> Passage:
    """with_desk=False (the terminal chat): "talk to a person" offers helplines instead."""
    from bot.desk.config import DeskConfig
    from bot.desk.desk import Desk

    # Cheap checks first: a wrong key file or model path is reported before Rasa loads (~15 s).
    desk_config = DeskConfig.load(settings.desk_config) if with_desk else None
    engine = open_storage(settings)
    if not settings.model_path.is_file():
        raise ModelNotFoundError(
            f"no trained model at {settings.model_path} (train one with `passage train`)"
        )
    from bot.actions import runtime
    from bot.conversation import Passage
    from bot.engine.conversation_engine import ConversationEngine
    from bot.engine.lock_store import lock_store_for
    from bot.engine.tracker_store import EncryptedSQLTrackerStore
    from bot.privacy import Privacy
    from bot.profiles import Profiles
    from bot.retention import Retention
    from encryption import current

    runtime.configure(engine)
    conversation_engine = ConversationEngine.load(settings.model_path,
                                                  EncryptedSQLTrackerStore(engine),
                                                  lock_store_for(settings.redis_url))
    desk = Desk(engine, desk_config) if desk_config else None
    privacy = Privacy(engine, current(), settings.safe_word)
    retention = Retention(engine, timedelta(days=settings.retention_days))
    return Passage(conversation_engine, Profiles(engine), current(), privacy, retention, desk)
