"""PostgreSQL for tests/backends/: skipped, with the reason, when it does not answer (failed on
CI and with PASSAGE_REQUIRE_BACKENDS=1); Redis is tests/conftest.py's `redis_url`.

PostgreSQL: one schema of its own per session (created here, dropped at the end; no other
schema of the shared database is touched), migrated by Passage's own migrations, holding the
session's keys (the same master key and data keys as the SQLite database, so one installed
Crypto reads both) and the sample directory.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from rasa.core.lock_store import LockStore
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import Engine

from bot.engine.conversation_engine import ConversationEngine
from bot.engine.tracker_store import EncryptedSQLTrackerStore
from tests.backends.availability import POSTGRES_URL, missing_backend, postgres_missing
from tests.conftest import SAMPLE_DIRECTORY


def with_search_path(url: str, schema: str) -> str:
    """The URL with psycopg2's `options` setting the schema: Passage's own make_engine() is used."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    if why := postgres_missing():
        missing_backend(why)
    schema = f"passage_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres(postgres_schema: str, database: Engine) -> Iterator[Engine]:
    """Passage on PostgreSQL: migrated, with the session's keys and the sample directory."""
    from bot.storage import create_tables, make_engine
    from encryption.keystore import encryption_keys
    from services_directory.importer import import_path

    engine = make_engine(with_search_path(POSTGRES_URL, postgres_schema))
    create_tables(engine)
    with database.connect() as sqlite, engine.begin() as connection:
        keys = [dict(row._mapping) for row in sqlite.execute(select(encryption_keys))]
        connection.execute(insert(encryption_keys), keys)
    assert import_path(engine, SAMPLE_DIRECTORY).imported
    yield engine
    engine.dispose()


def engine_with(passage, tracker_store: EncryptedSQLTrackerStore,  # noqa: ANN001 - a Passage
                lock_store: LockStore) -> ConversationEngine:
    """Another worker's ConversationEngine, in this process: the session's loaded model (one
    Rasa agent per process), its own tracker store and lock store."""
    agent = copy.copy(passage._engine._agent)
    agent.processor = copy.copy(agent.processor)
    agent.tracker_store = agent.processor.tracker_store = tracker_store
    agent.lock_store = agent.processor.lock_store = lock_store
    tracker_store.domain = agent.domain
    return ConversationEngine(agent, tracker_store)
