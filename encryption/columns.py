"""Encrypted columns: models read and write plain values, the database holds ciphertext.

Each column's "table.column" is bound to its ciphertexts as associated data, so a value
copied into another column does not decrypt.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.types import LargeBinary, TypeDecorator

import encryption


class EncryptedText(TypeDecorator):
    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def encode(self, value: Any) -> bytes:
        return str(value).encode()

    def decode(self, data: bytes) -> Any:
        return data.decode()

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return encryption.current().encrypt(self.encode(value), self.context)

    def encrypt_all(self, values: list[Any]) -> list[bytes | None]:
        """process_bind_param() of each value, in one batch (see Crypto.encrypt_all)."""
        present = [self.encode(value) for value in values if value is not None]
        sealed = iter(encryption.current().encrypt_all(present, self.context))
        return [None if value is None else next(sealed) for value in values]

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return self.decode(encryption.current().decrypt(bytes(value), self.context))


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
