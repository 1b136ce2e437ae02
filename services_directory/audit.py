"""Who changed what in the directory, and when — never the values themselves."""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table
from sqlalchemy.engine import Connection

from services_directory.bulk import insert_rows

metadata = MetaData()
audit_log = Table(
    "directory_audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(40), nullable=False),  # import, add, update, remove, rotate-keys
    Column("entity", String(40), nullable=False),
    Column("entity_id", String(80)),
)


def actor() -> str:
    """The operator: PASSAGE_ACTOR if set (e.g. by an admin tool), else the OS user."""
    try:
        return os.environ.get("PASSAGE_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record(connection: Connection, action: str, entity: str, ids: list[str]) -> None:
    same = {"at": datetime.now(timezone.utc), "actor": actor(), "action": action,
            "entity": entity}
    insert_rows(connection, audit_log, [{"entity_id": i} for i in ids], same)
