"""Many rows into one table at once, for imports of a million rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection

from encryption.columns import EncryptedText

# Enough SQLite page cache for the indexes of a 100 k-service import (the default is 2 MB): a
# new row goes to a random place in each index, and every page the cache lacks is read again.
IMPORT_CACHE_KIB = 256 * 1024


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]],
                same: dict[str, Any] | None = None) -> None:
    """`connection.execute(insert(table), rows)`, the same values written the same way, with
    the values in `same` in every row. On SQLite the rows go straight to the driver's
    executemany, prepared a column at a time: SQLAlchemy's own work per row costs more than
    the insert itself. Every row has the first row's keys."""
    if not rows:
        return
    same = same or {}
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(insert(table), [{**row, **same} for row in rows])
        return
    names = [name for name in rows[0] if name not in same]
    columns = [_bound(table, name, [row[name] for row in rows], connection) for name in names]
    columns += [_bound(table, name, [value], connection) * len(rows)
                for name, value in same.items()]
    quote = dialect.identifier_preparer.quote
    all_names = [*names, *same]
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in all_names)}) "
           f"VALUES ({', '.join('?' for _ in all_names)})")
    connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))


def _bound(table: Table, name: str, values: list[Any], connection: Connection) -> list[Any]:
    """The column's values as the driver gets them (encrypted ones in one batch)."""
    column_type = table.c[name].type
    if isinstance(column_type, EncryptedText):
        return column_type.encrypt_all(values)
    dialect = connection.dialect
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    return [None if value is None else process(value) for value in values]


@contextmanager
def import_cache(connection: Connection) -> Iterator[None]:
    """A large SQLite page cache while an import writes (IMPORT_CACHE_KIB), the connection's
    own again afterwards."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


@contextmanager
def indexes_made_after(connection: Connection, tables: list[Table]) -> Iterator[None]:
    """On SQLite, the tables' secondary indexes dropped while rows go in and made again at the
    end: one sort costs far less than a random insertion per row into each index. Inside the
    caller's transaction, so a failed import leaves them as they were."""
    if connection.dialect.name != "sqlite":
        yield
        return
    if not connection.connection.dbapi_connection.in_transaction:
        # pysqlite begins a transaction only before INSERT, UPDATE or DELETE; a DROP INDEX
        # outside one would be committed at once.
        connection.exec_driver_sql("BEGIN")
    names = ", ".join("?" for _ in tables)
    indexes = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({names}) ORDER BY name", tuple(t.name for t in tables)).all()
    quote = connection.dialect.identifier_preparer.quote
    for name, _ in indexes:
        connection.exec_driver_sql(f"DROP INDEX {quote(name)}")
    yield
    for _, sql in indexes:
        connection.exec_driver_sql(sql)
