"""Encrypted columns: models read and write plain values, the database holds ciphertext.

Each column's "table.column" is bound to its ciphertexts as associated data, so a value
copied into another column does not decrypt. A column made with `row_key` (the name of a
column of the same table that says whose row it is, fixed before the row is written) also
binds that row: a value copied or swapped into another row does not decrypt either. Such a
column is read with its row's identity beside it (one SQL expression, so any SELECT of it
works, ORM or Core); it is written by the ORM (bind_rows() wraps the value with its row) or,
in Core, as a RowBound value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, event, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapper, attributes
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import LargeBinary, TypeDecorator

import encryption
from encryption import row_text

_ROW_END = b"\0"  # between the row's identity and the ciphertext as a SELECT returns them


@dataclass(frozen=True)
class RowBound:
    """A value for a row-bound column, with the identity of its row (Core writes)."""

    value: Any
    row: Any


class EncryptedText(TypeDecorator):
    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str, row_key: str | None = None) -> None:
        super().__init__()
        self.context = context
        self.row_key = row_key

    def encode(self, value: Any) -> bytes:
        return str(value).encode()

    def decode(self, data: bytes) -> Any:
        return data.decode()

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if isinstance(value, RowBound):
            value, row = value.value, row_text(value.row)
        elif self.row_key is not None and value is not None:
            raise TypeError(f"{self.context} is bound to its row: write it as RowBound or "
                            "through the ORM")
        else:
            row = None
        if value is None:
            return None
        return encryption.current().encrypt(self.encode(value), self.context, row)

    def encrypt_all(self, values: list[Any], rows: list[Any] | None = None
                    ) -> list[bytes | None]:
        """process_bind_param() of each value (rows: each one's row), in one batch (see
        Crypto.encrypt_all)."""
        if self.row_key is not None and rows is None:
            raise TypeError(f"{self.context} is bound to its row: give the rows")
        rows = rows or [None] * len(values)
        present = [(self.encode(value), row_text(row))
                   for value, row in zip(values, rows, strict=True) if value is not None]
        sealed = iter(encryption.current().encrypt_all(
            [plain for plain, _ in present], self.context, [row for _, row in present]))
        return [None if value is None else next(sealed) for value in values]

    def column_expression(self, column: Any) -> ColumnElement:
        """A row-bound column is selected as "its row's identity, NUL, the ciphertext"."""
        table = getattr(column, "table", None)
        if self.row_key is None or table is None or self.row_key not in table.c:
            return column  # no row to read beside it: a version 2 value will not decrypt
        return _WithRow(table.c[self.row_key], column, self)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        value, row = bytes(value), None
        if self.row_key is not None and value[:1] not in (b"\1", b"\2"):
            identity, _, value = value.partition(_ROW_END)
            row = identity.decode()
        return self.decode(encryption.current().decrypt(value, self.context, row))


class _WithRow(ColumnElement):
    """identity-of-the-row || NUL || ciphertext, NULL when the value is (see _compile_*)."""

    inherit_cache = True

    def __init__(self, row: ColumnElement, value: ColumnElement, type_: EncryptedText) -> None:
        self.row, self.value, self.type = row, value, type_


@compiles(_WithRow)
def _compile_sqlite(element: _WithRow, compiler: Any, **kw: Any) -> str:
    row = cast(func.coalesce(cast(element.row, String), ""), LargeBinary)
    return "CAST(%s || X'00' || %s AS BLOB)" % (  # noqa: UP031 - SQL, not a message
        compiler.process(row, **kw), compiler.process(element.value, **kw))


@compiles(_WithRow, "postgresql")
def _compile_postgresql(element: _WithRow, compiler: Any, **kw: Any) -> str:
    row = func.convert_to(func.coalesce(cast(element.row, String), literal("")), "UTF8")
    return "(%s || '\\x00'::bytea || %s)" % (  # noqa: UP031 - SQL, not a message
        compiler.process(row, **kw), compiler.process(element.value, **kw))


class EncryptedFloat(EncryptedText):
    cache_ok = True

    def encode(self, value: Any) -> bytes:
        return repr(float(value)).encode()

    def decode(self, data: bytes) -> float:
        return float(data)


class EncryptedJSON(EncryptedText):
    cache_ok = True

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


def encrypted_columns(metadata_list: list) -> list[tuple[Any, Any]]:  # (Table, Column)
    """Every encrypted column of these schemas: what key rotation must re-encrypt."""
    return [
        (table, column)
        for metadata in metadata_list
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]


def bind_rows(base: Any) -> None:
    """Make the ORM write every row-bound column of `base`'s models with its row: before an
    insert or update the value is wrapped as RowBound, after it the plain value is back."""

    def bound(mapper: Mapper) -> list[tuple[str, str]]:  # (value attribute, row attribute)
        return [(mapper.get_property_by_column(column).key,
                 mapper.get_property_by_column(column.table.c[column.type.row_key]).key)
                for column in mapper.columns
                if isinstance(column.type, EncryptedText) and column.type.row_key]

    def wrap(mapper: Mapper, _connection: Any, target: Any) -> None:
        state = attributes.instance_state(target)
        for name, row in bound(mapper):
            value = state.dict.get(name)
            if value is None or isinstance(value, RowBound):
                continue
            if state.key is None or attributes.get_history(target, name).has_changes():
                setattr(target, name, RowBound(value, getattr(target, row)))

    def unwrap(_mapper: Mapper, _connection: Any, target: Any) -> None:
        state = attributes.instance_state(target)
        for name, value in list(state.dict.items()):
            if isinstance(value, RowBound):
                attributes.set_committed_value(target, name, value.value)

    for kind in ("before_insert", "before_update"):
        event.listen(base, kind, wrap, propagate=True)
    for kind in ("after_insert", "after_update"):
        event.listen(base, kind, unwrap, propagate=True)
