"""Many rows into one table at once, for imports of a million rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """`connection.execute(insert(table), rows)`, the same values written the same way. On
    SQLite the rows go straight to the driver's executemany: SQLAlchemy's own work per row
    costs more than the insert itself. Every row has the first row's keys."""
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    processors = [(name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
                  for name in names]
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
           f"VALUES ({', '.join('?' for _ in names)})")
    connection.exec_driver_sql(sql, [
        tuple(row[name] if process is None or row[name] is None else process(row[name])
              for name, process in processors)
        for row in rows])
