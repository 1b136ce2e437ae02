"""The one crypto module: everything Passage encrypts or pseudonymises goes through here.

Keys: a master key in a file (created 0600) wraps data keys kept in the database
(`encryption_keys`), so the master key can be replaced and data keys rotated while Passage
runs. Values are encrypted with AES-256-GCM by the active data key; old data keys stay
available for reading until everything is re-encrypted (`passage keys rotate`).

Ciphertext layout: version (1 byte) | data key id (1 byte) | nonce (12 bytes) | AES-GCM
output. The caller's context (e.g. "hsds_address.address_1") is bound as associated data:
a ciphertext moved to another column fails to decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from encryption.master_key import KeyFileError, MasterKey, create_key_file

FORMAT_VERSION = 1
_NONCE_BYTES = 12
_HEADER_BYTES = 2

__all__ = [
    "Crypto", "DecryptionError", "KeyFileError", "MasterKey", "create_key_file", "current",
    "install",
]


class DecryptionError(Exception):
    """A value could not be decrypted: wrong key, tampered data or wrong context."""


class KeyReloader(Protocol):
    """Loads the keys again (from the database); says when it is time to look for a rotation."""

    def __call__(self) -> Crypto: ...

    def due(self) -> bool: ...


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

    @property
    def key_ids(self) -> frozenset[int]:
        return frozenset(self._ciphers)

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        return self.encrypt_all([plaintext], context)[0]

    def encrypt_all(self, plaintexts: list[bytes], context: str) -> list[bytes]:
        """encrypt() of each, with one look for a rotation and one call for all the nonces
        (an import encrypts a million values)."""
        if self._reload is not None and self._reload.due():
            self._adopt(self._reload())  # a rotation elsewhere makes a new key active
        header = bytes([FORMAT_VERSION, self.active_key_id])
        associated = header + context.encode()
        seal = self._ciphers[self.active_key_id].encrypt
        nonces = os.urandom(_NONCE_BYTES * len(plaintexts))
        sealed = []
        for start, plaintext in zip(range(0, len(nonces), _NONCE_BYTES), plaintexts, strict=True):
            nonce = nonces[start : start + _NONCE_BYTES]
            sealed.append(header + nonce + seal(nonce, plaintext, associated))
        return sealed

    def decrypt(self, blob: bytes, context: str) -> bytes:
        if len(blob) < _HEADER_BYTES + _NONCE_BYTES + 16 or blob[0] != FORMAT_VERSION:
            raise DecryptionError("not a Passage ciphertext")
        cipher = self._ciphers.get(blob[1])
        if cipher is None and self._reload is not None:
            self._adopt(self._reload())  # another process rotated the keys meanwhile
            cipher = self._ciphers.get(blob[1])
        if cipher is None:
            raise DecryptionError(f"encrypted with data key {blob[1]}, which is not available")
        header = blob[:_HEADER_BYTES]
        nonce = blob[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES]
        try:
            return cipher.decrypt(nonce, blob[_HEADER_BYTES + _NONCE_BYTES :],
                                  header + context.encode())
        except InvalidTag:
            raise DecryptionError("wrong key, tampered data or wrong context") from None

    def pseudonym(self, namespace: str, identifier: str | int) -> str:
        """A stable keyed hash: the same person always maps to the same key, and back only by
        brute force with the key in hand."""
        message = f"{namespace}:{identifier}".encode()
        return hmac.new(self._pseudonym_key, message, hashlib.sha256).hexdigest()[:40]

    def _adopt(self, other: Crypto) -> None:
        self._ciphers, self.active_key_id = other._ciphers, other.active_key_id


_current: Crypto | None = None


def install(crypto: Crypto) -> None:
    """Make `crypto` the one encrypted columns use in this process."""
    global _current
    _current = crypto


def current() -> Crypto:
    if _current is None:
        raise KeyFileError("encryption keys are not loaded (no key file opened yet)")
    return _current
