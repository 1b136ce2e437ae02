"""The one crypto module: everything Passage encrypts or pseudonymises goes through here.

Keys: a master key in a file (created 0600) wraps data keys kept in the database
(`encryption_keys`), so the master key can be replaced and data keys rotated while Passage
runs. Values are encrypted with AES-256-GCM by the active data key; old data keys stay
available for reading until everything is re-encrypted (`passage keys rotate`).

Ciphertext layout: version (1 byte) | data key id (1 byte) | nonce (12 bytes) | AES-GCM
output. The header and the caller's context (e.g. "hsds_address.address_1") are bound as
associated data: a ciphertext moved to another column fails to decrypt. Version 2 (every new
value) also binds the row: the identity of the row the value belongs to (e.g. the case's
pseudonym), so a value moved to another row of the same column fails too. Version 1 values
(no row) still decrypt; `passage keys rotate` rewrites them as version 2.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from encryption.master_key import KeyFileError, MasterKey, create_key_file

FORMAT_VERSION = 2  # of new values; 1: bound to the column only (still read)
_COLUMN_ONLY_VERSION = 1
_NONCE_BYTES = 12
_HEADER_BYTES = 2

__all__ = [
    "Crypto", "DecryptionError", "KeyFileError", "MasterKey", "create_key_file", "current",
    "install", "row_text",
]


class DecryptionError(Exception):
    """A value could not be decrypted: wrong key, tampered data or wrong context."""


class KeyReloader(Protocol):
    """Loads the keys again (key file and database); says when it is time to look for a
    rotation. Returns None when the keys could not be loaded: the ones in hand stay."""

    def __call__(self) -> Crypto | None: ...

    def due(self) -> bool: ...

    def still_stored(self, key_id: int) -> bool:
        """Whether the database still keeps data key `key_id` (under any master key)."""


class Crypto:
    """Encrypts values at rest with the active data key; turns identifiers into pseudonyms."""

    def __init__(self, data_keys: dict[int, bytes], active_key_id: int, pseudonym_key: bytes,
                 reload: KeyReloader | None = None) -> None:
        if active_key_id not in data_keys:
            raise ValueError("the active data key is missing")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in data_keys.items()}
        self.active_key_id = active_key_id
        self._pseudonym_key = pseudonym_key
        self._reload = reload
        self._active_retired = False  # by a rotation on another host: writing would lose data

    @property
    def key_ids(self) -> frozenset[int]:
        return frozenset(self._ciphers)

    def encrypt(self, plaintext: bytes, context: str, row: str | None = None) -> bytes:
        """row: the identity of the row the value belongs to (None: a value of no row)."""
        return self.encrypt_all([plaintext], context, [row])[0]

    def encrypt_all(self, plaintexts: list[bytes], context: str,
                    rows: list[str | None] | None = None) -> list[bytes]:
        """encrypt() of each (rows: each one's row, default none), with one look for a
        rotation and one call for all the nonces (an import encrypts a million values)."""
        self._look_for_rotation()
        if self._active_retired:
            raise KeyFileError(
                "the encryption keys were rotated elsewhere and this process's key file is "
                "out of date: copy the new key file here (nothing is written meanwhile)")
        header = bytes([FORMAT_VERSION, self.active_key_id])
        seal = self._ciphers[self.active_key_id].encrypt
        nonces = os.urandom(_NONCE_BYTES * len(plaintexts))
        sealed = []
        for start, plaintext, row in zip(range(0, len(nonces), _NONCE_BYTES), plaintexts,
                                         rows or [None] * len(plaintexts), strict=True):
            nonce = nonces[start : start + _NONCE_BYTES]
            sealed.append(header + nonce + seal(nonce, plaintext,
                                                _associated(header, context, row)))
        return sealed

    def decrypt(self, blob: bytes, context: str, row: str | None = None) -> bytes:
        """row: the identity of the row the value was read from; a version 2 value written
        for another row does not decrypt."""
        if len(blob) < _HEADER_BYTES + _NONCE_BYTES + 16 or blob[0] not in (
                FORMAT_VERSION, _COLUMN_ONLY_VERSION):
            raise DecryptionError("not a Passage ciphertext")
        self._look_for_rotation()
        cipher = self._ciphers.get(blob[1])
        if cipher is None and self._reload is not None:
            self._adopt(self._reload())  # another process rotated the keys meanwhile
            cipher = self._ciphers.get(blob[1])
        if cipher is None:
            raise DecryptionError(f"encrypted with data key {blob[1]}, which is not available")
        header = blob[:_HEADER_BYTES]
        nonce = blob[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES]
        associated = (header + context.encode() if blob[0] == _COLUMN_ONLY_VERSION
                      else _associated(header, context, row))
        try:
            return cipher.decrypt(nonce, blob[_HEADER_BYTES + _NONCE_BYTES :], associated)
        except InvalidTag:
            raise DecryptionError("wrong key, tampered data, wrong column or row") from None

    def is_current(self, blob: bytes) -> bool:
        """Whether a stored value is in the newest format under the active key (what
        `passage keys rotate` leaves behind)."""
        return blob[0] == FORMAT_VERSION and blob[1] == self.active_key_id

    def _look_for_rotation(self) -> None:
        if self._reload is not None and self._reload.due():
            self._adopt(self._reload())  # a rotation elsewhere makes a new key active

    def pseudonym(self, namespace: str, identifier: str | int) -> str:
        """A stable keyed hash: the same person always maps to the same key, and back only by
        brute force with the key in hand."""
        message = f"{namespace}:{identifier}".encode()
        return hmac.new(self._pseudonym_key, message, hashlib.sha256).hexdigest()[:40]

    def _adopt(self, other: Crypto | None) -> None:
        if other is not None:
            self._ciphers, self.active_key_id = other._ciphers, other.active_key_id
            self._active_retired = False
        elif self._reload is not None:  # could not reload: the keys in hand still read, and
            # still write unless a rotation elsewhere retired the active key (its values would
            # be readable by no one)
            self._active_retired = not self._reload.still_stored(self.active_key_id)


def row_text(identity: object) -> str | None:
    """A row's identity as a value's associated data holds it (the text SQL makes of it)."""
    return None if identity is None else str(identity)


def _associated(header: bytes, context: str, row: str | None) -> bytes:
    """Version 2's associated data: header, column, and the row (a NUL keeps "a"+"bc" and
    "ab"+"c" apart; no row is an empty one)."""
    return header + context.encode() + b"\0" + (row or "").encode()


_current: Crypto | None = None


def install(crypto: Crypto) -> None:
    """Make `crypto` the one encrypted columns use in this process."""
    global _current
    _current = crypto


def current() -> Crypto:
    if _current is None:
        raise KeyFileError("encryption keys are not loaded (no key file opened yet)")
    return _current
