"""Assemble Passage from settings: keys, database, directory, Rasa agent."""

from __future__ import annotations

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
    create_tables(engine)
    encryption.install(open_crypto(settings.key_file, engine))
    return engine


def build_passage(settings: Settings) -> Passage:
    # Cheap checks first: a wrong key file or model path is reported before Rasa loads (~15 s).
    engine = open_storage(settings)
    if not settings.model_path.is_file():
        raise ModelNotFoundError(
            f"no trained model at {settings.model_path} (train one with `passage train`)"
        )
    from bot.actions import runtime
    from bot.conversation import Passage
    from bot.engine.conversation_engine import ConversationEngine
    from bot.engine.tracker_store import EncryptedSQLTrackerStore
    from bot.profiles import Profiles
    from encryption import current

    runtime.configure(engine)
    conversation_engine = ConversationEngine.load(settings.model_path,
                                                  EncryptedSQLTrackerStore(engine))
    return Passage(conversation_engine, Profiles(engine), current())
