"""Data keys in the database, wrapped by the master key; opening and rotating them.

Key id 0 is the pseudonym key (never rotated: pseudonyms must stay stable). Ids 1..255 are
data keys; exactly one is active for new values. Each key is stored once per master key that
wraps it, so a new master key can be brought in before the old one is dropped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
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

from encryption import Crypto, row_text
from encryption.master_key import KeyFileError, MasterKey, new_key_file_content, write_private

PSEUDONYM_KEY_ID = 0
MAX_DATA_KEY_ID = 255
RELOAD_SECONDS = 60.0  # how soon a running process notices a rotation made on another host
FILE_LOOK_SECONDS = 0.5  # how soon it notices that this host's key file was replaced
log = logging.getLogger(__name__)

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
    """Load the keys again when the key file was replaced (looked at every FILE_LOOK_SECONDS)
    or every `every` seconds, so rotations reach running processes. The key file is read
    again each time: after `passage keys rotate` the old master key wraps nothing."""

    def __init__(self, engine: Engine, key_file: Path, every: float) -> None:
        self.engine, self.key_file, self.every = engine, key_file, every
        self.loaded_at = self.looked_at = time.monotonic()
        self.file_state = _file_state(key_file)

    def __call__(self) -> Crypto | None:
        self.loaded_at = self.looked_at = time.monotonic()
        self.file_state = _file_state(self.key_file)
        try:
            return load_crypto(self.engine, MasterKey.load(self.key_file), self.every)
        except KeyFileError as error:  # keep the keys in hand; say why once a round
            log.warning("encryption keys not reloaded: %s", error)
            return None

    def still_stored(self, key_id: int) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(encryption_keys).where(
                encryption_keys.c.key_id == key_id)).scalar_one() > 0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.loaded_at > self.every:
            return True
        if now - self.looked_at < FILE_LOOK_SECONDS:
            return False
        self.looked_at = now
        return _file_state(self.key_file) != self.file_state


def _file_state(path: Path) -> tuple[int, int] | None:
    """What changes when the key file is replaced (a rename gives it a new inode)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns


def load_crypto(engine: Engine, master: MasterKey, reload_seconds: float = RELOAD_SECONDS
                ) -> Crypto:
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
                  reload=_Reloading(engine, master.path, reload_seconds))


def open_crypto(key_file: Path, engine: Engine, reload_seconds: float = RELOAD_SECONDS
                ) -> Crypto:
    """The key file's master key, the data keys it unwraps. Creates the keys table if needed;
    writes nothing else: a wrong or missing key is one KeyFileError."""
    master = MasterKey.load(key_file)
    metadata.create_all(engine)
    return load_crypto(engine, master, reload_seconds)


@dataclass
class RotationReport:
    new_key_id: int
    reencrypted: int
    retired: list[int]  # data keys deleted: no value uses them any more
    still_used: list[int]  # old data keys kept: values written meanwhile still use them


def rotate(key_file: Path, engine: Engine, metadata_list: list, *,
           settle_seconds: float = RELOAD_SECONDS,
           progress: Callable[[str], None] = lambda _: None) -> RotationReport:
    """Replace the master key file, make a new data key active, re-encrypt every value in the
    newest format, then delete the old master key's rows and the data keys no value uses.

    No moment exists at which a running process holds only keys that cannot read a value:
    1. the new master key wraps every data key and a new one; the old one wraps the new one
       too, so whichever key file a process reads, it finds every key in use;
    2. the new data key becomes active; 3. the new key file replaces the old one (processes
       on this host notice within FILE_LOOK_SECONDS and load the keys again);
    4. every value is re-encrypted; after settle_seconds (a process elsewhere loads the keys
       every RELOAD_SECONDS) once more, for what was written with the old key meanwhile;
    5. only then are the old master's rows and the unused data keys deleted.
    """
    import encryption

    old_master = MasterKey.load(key_file)
    metadata.create_all(engine)
    crypto = load_crypto(engine, old_master)
    new_key_id = max(crypto.key_ids) + 1
    if new_key_id > MAX_DATA_KEY_ID:
        raise KeyFileError("all 255 data key ids are used; export and re-import the data")
    staged = Path(f"{key_file}.new")
    staged.unlink(missing_ok=True)
    write_private(staged, new_key_file_content())
    new_master = MasterKey.load(staged)
    new_key = os.urandom(32)
    with engine.begin() as connection:
        for row in connection.execute(select(encryption_keys).where(
                encryption_keys.c.master_key_id == old_master.key_id)):
            key = old_master.unwrap(row.wrapped, _label(row.key_id))
            connection.execute(insert(encryption_keys).values(
                key_id=row.key_id, master_key_id=new_master.key_id, active=row.active,
                created_at=row.created_at, wrapped=new_master.wrap(key, _label(row.key_id))))
        for master in (old_master, new_master):
            connection.execute(insert(encryption_keys).values(
                key_id=new_key_id, master_key_id=master.key_id, active=False,
                created_at=_now(), wrapped=master.wrap(new_key, _label(new_key_id))))
    with engine.begin() as connection:
        connection.execute(update(encryption_keys).values(
            active=encryption_keys.c.key_id == new_key_id))
    os.replace(staged, key_file)
    crypto = load_crypto(engine, MasterKey.load(key_file))
    encryption.install(crypto)
    progress(f"new master key in place, data key {new_key_id} active")
    time.sleep(2 * FILE_LOOK_SECONDS)  # writes under way here with the old key land first
    total = reencrypt(engine, crypto, metadata_list)
    if settle_seconds:
        time.sleep(settle_seconds)  # values written meanwhile by processes not yet reloaded
        total += reencrypt(engine, crypto, metadata_list)
    in_use = keys_in_use(engine, metadata_list)
    with engine.begin() as connection:
        retired = sorted(set(connection.execute(select(encryption_keys.c.key_id).where(
            encryption_keys.c.key_id.notin_([PSEUDONYM_KEY_ID, new_key_id, *in_use]))
        ).scalars()))
        connection.execute(delete(encryption_keys).where(
            (encryption_keys.c.master_key_id == old_master.key_id)
            | encryption_keys.c.key_id.in_(retired)))
    return RotationReport(new_key_id, total, retired, sorted(in_use - {new_key_id}))


def _stored_values(engine: Engine, metadata_list: list) -> Iterator[tuple]:
    """(table, column, primary key values, row identity or None, raw value) of every
    encrypted value, read without decrypting."""
    from encryption.columns import encrypted_columns

    for table, column in encrypted_columns(metadata_list):
        key = list(table.primary_key.columns)
        row_key = column.type.row_key
        row = [table.c[row_key]] if row_key else []
        with engine.connect() as connection:
            found = connection.execute(select(
                *key, *row, type_coerce(column, LargeBinary).label("raw"),
            ).where(column.isnot(None))).all()
        for values in found:
            identity = row_text(values[len(key)]) if row_key else None
            yield table, column, values[:len(key)], identity, bytes(values.raw)


def keys_in_use(engine: Engine, metadata_list: list) -> set[int]:
    """The data keys some stored value is encrypted with."""
    return {raw[1] for _, _, _, _, raw in _stored_values(engine, metadata_list)}


def reencrypt(engine: Engine, crypto: Crypto, metadata_list: list, batch: int = 1000) -> int:
    """Re-encrypt, with the active key and in the newest format (bound to its row), every
    value that is not (see Crypto.is_current)."""
    stale = (value for value in _stored_values(engine, metadata_list)
             if not crypto.is_current(value[4]))  # one column's values in memory at a time
    total = 0
    while chunk := list(islice(stale, batch)):
        with engine.begin() as connection:
            for table, column, key, identity, raw in chunk:
                context = column.type.context
                fresh = crypto.encrypt(crypto.decrypt(raw, context, identity), context, identity)
                condition = [k == value for k, value in zip(table.primary_key.columns, key,
                                                            strict=True)]
                # Unless written anew meanwhile (then a newer value stays; a later pass sees it).
                condition.append(type_coerce(column, LargeBinary) == raw)
                connection.execute(update(table).where(*condition).values(
                    {column.name: type_coerce(fresh, LargeBinary)}))
        total += len(chunk)
    return total
