"""Assemble Passage from settings: keys, database, directory, Rasa agent."""

from __future__ import annotations

from bot.actions import runtime
from bot.conversation import Passage
from bot.engine.conversation_engine import ConversationEngine
from bot.engine.tracker_store import EncryptedSQLTrackerStore
from bot.profiles import Profiles
from bot.settings import Settings
from bot.storage import create_tables, make_engine
from encryption import Crypto


def build_passage(settings: Settings) -> Passage:
    crypto = Crypto.from_key_file(settings.key_file)
    engine = make_engine(settings.database_url)
    create_tables(engine)
    runtime.configure(engine)
    tracker_store = EncryptedSQLTrackerStore(engine, crypto)
    conversation_engine = ConversationEngine.load(settings.model_path, tracker_store)
    return Passage(conversation_engine, Profiles(engine), crypto)
