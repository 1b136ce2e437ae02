"""What the database still holds of a person: every text column of every table, searched."""

from __future__ import annotations

from sqlalchemy import String, func, select
from sqlalchemy.orm import Session

from bot.storage import all_metadata


def columns_holding(session: Session, value: str) -> list[str]:
    """`table.column` of every text column with a row equal to `value`."""
    return [f"{table.name}.{column.name}"
            for metadata in all_metadata() for table in metadata.sorted_tables
            for column in table.columns if isinstance(column.type, String)
            and session.execute(select(func.count()).select_from(table).where(
                column == value)).scalar_one()]
