"""Data keys in the database, wrapped by the master key; opening and rotating them.

Key id 0 is the pseudonym key (never rotated: pseudonyms must stay stable). Ids 1..255 are
data keys; exactly one is active for new values. Each key is stored once per master key that
wraps it, so a new master key can be brought in before the old one is dropped.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from encryption import Crypto
from encryption.master_key import KeyFileError, MasterKey, new_key_file_content, write_private

PSEUDONYM_KEY_ID = 0
MAX_DATA_KEY_ID = 255
RELOAD_SECONDS = 60.0  # how soon a running process notices a rotation

metadata = MetaData()
encryption_keys = Table(
    "encryption_keys", metadata,
    Column("key_id", Integer, primary_key=True, autoincrement=False),
    Column("master_key_id", String(32), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("active", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def _label(key_id: int) -> str:
    return f"passage-key:{key_id}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _rows(engine: Engine, master: MasterKey) -> list:
    with engine.connect() as connection:
        return list(connection.execute(
            select(encryption_keys).where(encryption_keys.c.master_key_id == master.key_id)))


def _first_keys(engine: Engine, master: MasterKey) -> None:
    """A new database: a pseudonym key and the first data key."""
    with engine.begin() as connection:
        if connection.execute(select(func.count()).select_from(encryption_keys)).scalar_one():
            raise KeyFileError(
                f"the key file {master.path} does not fit this database (wrong or replaced key)")
        for key_id, active in ((PSEUDONYM_KEY_ID, False), (1, True)):
            connection.execute(insert(encryption_keys).values(
                key_id=key_id, master_key_id=master.key_id, active=active, created_at=_now(),
                wrapped=master.wrap(os.urandom(32), _label(key_id))))


class _Reloading:
    """Re-read the keys at most every RELOAD_SECONDS, so rotations reach running processes."""

    def __init__(self, engine: Engine, master: MasterKey) -> None:
        self.engine, self.master, self.loaded_at = engine, master, time.monotonic()

    def __call__(self) -> Crypto:
        self.loaded_at = time.monotonic()
        return load_crypto(self.engine, self.master)

    def due(self) -> bool:
        return time.monotonic() - self.loaded_at > RELOAD_SECONDS


def load_crypto(engine: Engine, master: MasterKey) -> Crypto:
    rows = _rows(engine, master)
    if not rows:
        with contextlib.suppress(IntegrityError):  # another process made them just now
            _first_keys(engine, master)
        rows = _rows(engine, master)
    keys = {row.key_id: master.unwrap(row.wrapped, _label(row.key_id)) for row in rows}
    active = [row.key_id for row in rows if row.active]
    if PSEUDONYM_KEY_ID not in keys or len(active) != 1:
        raise KeyFileError("the encryption_keys table is inconsistent (no single active key)")
    data_keys = {key_id: key for key_id, key in keys.items() if key_id != PSEUDONYM_KEY_ID}
    return Crypto(data_keys, active[0], keys[PSEUDONYM_KEY_ID],
                  reload=_Reloading(engine, master))


def open_crypto(key_file: Path, engine: Engine) -> Crypto:
    """The key file's master key, the data keys it unwraps. Creates the keys table if needed;
    writes nothing else: a wrong or missing key is one KeyFileError."""
    master = MasterKey.load(key_file)
    metadata.create_all(engine)
    return load_crypto(engine, master)


@dataclass
class RotationReport:
    new_key_id: int
    reencrypted: int


def rotate(key_file: Path, engine: Engine, metadata_list: list, *,
           settle_seconds: float = RELOAD_SECONDS,
           progress: Callable[[str], None] = lambda _: None) -> RotationReport:
    """Replace the master key file, add a new active data key and re-encrypt every value.

    Every step leaves a working state behind: the new master key wraps all keys before it
    replaces the file; old data keys stay readable (wrapped by the new master key) for values
    that running processes write before they notice the new key.
    """
    import encryption

    old_master = MasterKey.load(key_file)
    metadata.create_all(engine)
    crypto = load_crypto(engine, old_master)
    staged = Path(f"{key_file}.new")
    staged.unlink(missing_ok=True)
    write_private(staged, new_key_file_content())
    new_master = MasterKey.load(staged)
    with engine.begin() as connection:
        for row in connection.execute(select(encryption_keys).where(
                encryption_keys.c.master_key_id == old_master.key_id)):
            key = old_master.unwrap(row.wrapped, _label(row.key_id))
            connection.execute(insert(encryption_keys).values(
                key_id=row.key_id, master_key_id=new_master.key_id, active=row.active,
                created_at=row.created_at, wrapped=new_master.wrap(key, _label(row.key_id))))
    os.replace(staged, key_file)
    progress("new master key in place")
    new_key_id = max(crypto.key_ids) + 1
    if new_key_id > MAX_DATA_KEY_ID:
        raise KeyFileError("all 255 data key ids are used; export and re-import the data")
    with engine.begin() as connection:
        connection.execute(delete(encryption_keys).where(
            encryption_keys.c.master_key_id == old_master.key_id))
        connection.execute(update(encryption_keys).values(active=False))
        connection.execute(insert(encryption_keys).values(
            key_id=new_key_id, master_key_id=new_master.key_id, active=True, created_at=_now(),
            wrapped=new_master.wrap(os.urandom(32), _label(new_key_id))))
    crypto = load_crypto(engine, new_master)
    encryption.install(crypto)
    progress(f"data key {new_key_id} active")
    total = reencrypt(engine, crypto, metadata_list)
    if settle_seconds:
        time.sleep(settle_seconds)  # values written meanwhile by processes not yet reloaded
        total += reencrypt(engine, crypto, metadata_list)
    return RotationReport(new_key_id, total)


def reencrypt(engine: Engine, crypto: Crypto, metadata_list: list, batch: int = 1000) -> int:
    """Re-encrypt, with the active key, every value encrypted with another key."""
    from encryption.columns import encrypted_columns

    count = 0
    for table, column in encrypted_columns(metadata_list):
        key = list(table.primary_key.columns)
        raw = type_coerce(column, LargeBinary)
        with engine.begin() as connection:
            rows = connection.execute(select(*key, raw.label("raw")).where(column.isnot(None)))
            stale = [row for row in rows if row.raw[1] != crypto.active_key_id]
            for start in range(0, len(stale), batch):
                for row in stale[start : start + batch]:
                    context = column.type.context
                    fresh = crypto.encrypt(crypto.decrypt(bytes(row.raw), context), context)
                    condition = [k == getattr(row, k.name) for k in key]
                    connection.execute(update(table).where(*condition).values(
                        {column.name: type_coerce(fresh, LargeBinary)}))
                    count += 1
    return count
