"""Assemble Passage from settings: keys, database, directory, Rasa agent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import ModelNotFoundError
from bot.settings import Settings
from encryption import Crypto

if TYPE_CHECKING:
    from bot.conversation import Passage


def build_passage(settings: Settings) -> Passage:
    # Cheap checks first: a wrong key file or model path is reported before Rasa loads (~15 s).
    crypto = Crypto.from_key_file(settings.key_file)
    if not settings.model_path.is_file():
        raise ModelNotFoundError(
            f"no trained model at {settings.model_path} (train one with `passage train`)"
        )
    from bot.actions import runtime
    from bot.conversation import Passage
    from bot.engine.conversation_engine import ConversationEngine
    from bot.engine.tracker_store import EncryptedSQLTrackerStore
    from bot.profiles import Profiles
    from bot.storage import create_tables, make_engine

    engine = make_engine(settings.database_url)
    create_tables(engine)
    runtime.configure(engine)
    tracker_store = EncryptedSQLTrackerStore(engine, crypto)
    conversation_engine = ConversationEngine.load(settings.model_path, tracker_store)
    return Passage(conversation_engine, Profiles(engine), crypto)
