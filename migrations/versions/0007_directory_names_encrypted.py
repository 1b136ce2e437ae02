"""directory: names, free text and URLs encrypted in place

Organisation names and websites, program names, service URLs and fees, attribute values,
service-area names, documents, taxonomy names and the like were kept in plain text: an
organisation's name next to its confidential site's coarse cell gives the site away. Their
values are encrypted where they are (the key file is needed when the directory holds any),
and the pages that held them are overwritten (SQLite's secure_delete).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-08 03:00:00
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None

# table -> the columns this revision encrypts (a snapshot: services_directory/hsds.ENCRYPTED
# may grow later, this list must not).
NEWLY_ENCRYPTED: dict[str, tuple[str, ...]] = {
    "hsds_organization": ("name", "alternate_name", "website", "tax_status", "tax_id",
                          "legal_status", "logo", "uri"),
    "hsds_program": ("name", "alternate_name", "description"),
    "hsds_service": ("url", "fees_description", "wait_time", "fees", "accreditations",
                     "licenses"),
    "hsds_attribute": ("value",),
    "hsds_location": ("url",),
    "hsds_accessibility": ("url",),
    "hsds_schedule": ("schedule_link",),
    "hsds_funding": ("source",),
    "hsds_service_area": ("name", "uri"),
    "hsds_required_document": ("document", "uri"),
    "hsds_language": ("note",),
    "hsds_taxonomy_term": ("name", "description", "taxonomy", "term_uri"),
    "hsds_taxonomy": ("name", "description", "uri"),
    "hsds_metadata": ("updated_by",),
    "hsds_cost_option": ("option", "amount_description"),
    "hsds_organization_identifier": ("identifier",),
}
_BATCH = 1000


def _crypto() -> Any:  # an encryption.Crypto
    """This database's keys, from the key file the migration was started with."""
    from encryption.keystore import open_crypto

    key_file = context.config.attributes.get("key_file")
    if key_file is None:
        from encryption import KeyFileError

        raise KeyFileError("the directory's names must be encrypted: open the database with "
                           "its key file (PASSAGE_KEY_FILE) to upgrade it")
    return open_crypto(Path(key_file), op.get_bind().engine)


def _rows(table: str, columns: tuple[str, ...]) -> list[Any]:
    """The rows with a value in any of these columns: (id, values...)."""
    bind = op.get_bind()
    names = ", ".join(f'"{column}"' for column in columns)
    present = " OR ".join(f'"{column}" IS NOT NULL' for column in columns)
    return bind.exec_driver_sql(f'SELECT "id", {names} FROM "{table}" WHERE {present}').all()


def _batches(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), _BATCH):
        yield rows[start : start + _BATCH]


def _write(table: str, columns: tuple[str, ...], kind: type, rows: list[Any],
           change: Callable[[str, list[Any]], list[Any]]) -> None:
    """Set each row's columns to change(column, its values), a batch at a time."""
    target = sa.table(table, sa.column("id", sa.String()),
                      *(sa.column(column, kind()) for column in columns))
    statement = (sa.update(target).where(target.c.id == sa.bindparam("row_id"))
                 .values({column: sa.bindparam(f"new_{column}") for column in columns}))
    for batch in _batches(rows):
        changed = {column: change(f"{table}.{column}", [row[at + 1] for row in batch])
                   for at, column in enumerate(columns)}
        op.get_bind().execute(statement, [
            {"row_id": row[0], **{f"new_{column}": changed[column][at] for column in columns}}
            for at, row in enumerate(batch)])


# A plain column whose name ends in "_id" was indexed; a ciphertext index finds nothing.
_PLAIN_INDEXES = {"hsds_organization": ("tax_id",)}


def _retype(table: str, columns: tuple[str, ...], old: type, new: type, using: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in _PLAIN_INDEXES.get(table, ()):
            if new is sa.LargeBinary:
                batch_op.drop_index(f"ix_{table}_{column}")
        for column in columns:
            batch_op.alter_column(column, existing_type=old(), type_=new(),
                                  postgresql_using=using.format(column=column))
        for column in _PLAIN_INDEXES.get(table, ()):
            if new is sa.Text:
                batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)


def _overwrite_freed_pages() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA secure_delete = ON")  # the old plain pages are zeroed, not left


def upgrade() -> None:
    _overwrite_freed_pages()
    plain = {table: _rows(table, columns) for table, columns in NEWLY_ENCRYPTED.items()}
    crypto = _crypto() if any(plain.values()) else None

    def encrypt(context_name: str, values: list[Any]) -> list[bytes | None]:
        present = [str(value).encode() for value in values if value is not None]
        sealed = iter(crypto.encrypt_all(present, context_name))
        return [None if value is None else next(sealed) for value in values]

    for table, columns in NEWLY_ENCRYPTED.items():
        _retype(table, columns, sa.Text, sa.LargeBinary, 'convert_to("{column}", \'UTF8\')')
        _write(table, columns, sa.LargeBinary, plain[table], encrypt)


def downgrade() -> None:
    _overwrite_freed_pages()
    sealed = {table: _rows(table, columns) for table, columns in NEWLY_ENCRYPTED.items()}
    crypto = _crypto() if any(sealed.values()) else None

    def decrypt(context_name: str, values: list[Any]) -> list[str | None]:
        return [None if value is None else crypto.decrypt(bytes(value), context_name).decode()
                for value in values]

    for table, columns in NEWLY_ENCRYPTED.items():
        _retype(table, columns, sa.LargeBinary, sa.Text, "NULL")
        _write(table, columns, sa.Text, sealed[table], decrypt)
