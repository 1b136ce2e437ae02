"""Schema migrations (Alembic, migrations/): the one way Passage's tables are created."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.settings import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


# Any number, the same in every worker: PostgreSQL's lock for "migrating Passage's schema".
MIGRATION_LOCK_ID = 0x70617373  # "pass"


def upgrade(engine: Engine, key_file: Path | None = None) -> None:
    """Bring the database to the newest schema (no-op when it is there already). On
    PostgreSQL, workers starting together take turns (a lock held until the migration's
    transaction ends): the first migrates, the others then find it done. key_file: for a
    migration that encrypts values already there."""
    config = alembic_config()
    config.attributes["key_file"] = key_file
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"),
                               {"id": MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
