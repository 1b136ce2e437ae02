"""The one crypto module: everything Passage encrypts or pseudonymises goes through here.

A key file holds a master key (created 0600). From it, HKDF derives separate keys for
encryption at rest (AES-256-GCM) and for pseudonyms (HMAC-SHA256), so the hash of a chat
id can never be used to decrypt anything.

Ciphertext layout: version (1 byte) | key id (1 byte) | nonce (12 bytes) | AES-GCM output.
The caller's context (e.g. the table and column) is bound as associated data: a ciphertext
moved to another place fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION = 1
_NONCE_BYTES = 12


class KeyFileError(Exception):
    """The key file is missing, unreadable or not a Passage key file (one line for people)."""


class DecryptionError(Exception):
    """A value could not be decrypted: wrong key, tampered data or wrong context."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


class Crypto:
    """Encrypts values at rest and turns identifiers into stable pseudonyms."""

    def __init__(self, master_key: bytes, key_id: int = 1) -> None:
        if len(master_key) != 32:
            raise KeyFileError("the master key must be 32 bytes")
        if not 0 < key_id < 256:
            raise KeyFileError("the key id must be between 1 and 255")
        self.key_id = key_id
        self._aead = AESGCM(_derive(master_key, b"passage/encryption/v1"))
        self._pseudonym_key = _derive(master_key, b"passage/pseudonym/v1")

    @classmethod
    def from_key_file(cls, path: Path) -> Crypto:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            key = base64.b64decode(data["key"], validate=True)
            return cls(key, int(data.get("key_id", 1)))
        except FileNotFoundError:
            raise KeyFileError(
                f"key file not found: {path} (create one with `passage keys init`)"
            ) from None
        except PermissionError:
            raise KeyFileError(f"key file not readable: {path}") from None
        except (ValueError, KeyError, TypeError):
            raise KeyFileError(f"not a Passage key file: {path}") from None

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        header = bytes([FORMAT_VERSION, self.key_id])
        sealed = self._aead.encrypt(nonce, plaintext, header + context.encode())
        return header + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> bytes:
        if len(blob) < 2 + _NONCE_BYTES + 16 or blob[0] != FORMAT_VERSION:
            raise DecryptionError("not a Passage ciphertext")
        if blob[1] != self.key_id:
            raise DecryptionError(f"encrypted with key id {blob[1]}, this key is {self.key_id}")
        header, nonce, sealed = blob[:2], blob[2 : 2 + _NONCE_BYTES], blob[2 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, header + context.encode())
        except InvalidTag:
            raise DecryptionError("wrong key, tampered data or wrong context") from None

    def pseudonym(self, namespace: str, identifier: str | int) -> str:
        """A stable keyed hash: the same person maps to the same key, and back only by brute
        force with the key in hand."""
        message = f"{namespace}:{identifier}".encode()
        return hmac.new(self._pseudonym_key, message, hashlib.sha256).hexdigest()[:40]


def create_key_file(path: Path) -> bool:
    """Write a new random master key readable only by its owner; False when one exists."""
    path = Path(path)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    content = json.dumps({"key_id": 1, "key": base64.b64encode(os.urandom(32)).decode()})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content + "\n")
    return True
