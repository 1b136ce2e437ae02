"""Alembic environment: every Passage table (bot, directory, keys) on SQLite or PostgreSQL."""

from alembic import context
from sqlalchemy import create_engine

from bot.storage import all_metadata
from encryption.columns import EncryptedText

config = context.config
target_metadata = all_metadata()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # the alembic command line: `-x url=...`
        url = context.get_x_argument(as_dictionary=True).get("url")
        with create_engine(url, hide_parameters=True).connect() as own_connection:
            _migrate(own_connection)
    else:
        _migrate(connection)


def _render_item(kind: str, obj: object, autogen_context: object) -> str | bool:
    """Encrypted columns are plain binary columns in the database."""
    if kind == "type" and isinstance(obj, EncryptedText):
        return "sa.LargeBinary()"
    return False


def _migrate(connection) -> None:  # noqa: ANN001 - a SQLAlchemy Connection
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True, render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


run()
