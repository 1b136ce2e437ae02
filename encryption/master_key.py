"""The master key file: created once, 0600, never overwritten; it only wraps data keys."""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class KeyFileError(Exception):
    """The key file is missing, unreadable, not a Passage key file, or does not fit the data
    (one line for people)."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str  # random, names which master key wrapped a data key
    key: bytes
    path: Path

    @classmethod
    def load(cls, path: Path) -> MasterKey:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            key = base64.b64decode(data["key"], validate=True)
            key_id = str(data["key_id"])
        except FileNotFoundError:
            raise KeyFileError(
                f"key file not found: {path} (create one with `passage keys init`)"
            ) from None
        except PermissionError:
            raise KeyFileError(f"key file not readable: {path}") from None
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise KeyFileError(f"not a Passage key file: {path}") from None
        if len(key) != 32:
            raise KeyFileError(f"not a Passage key file: {path}")
        warn_if_others_can_read(path)
        return cls(key_id, key, path)

    def _wrapping_cipher(self) -> AESGCM:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"passage/wrap/v1").derive(self.key)
        return AESGCM(derived)

    def wrap(self, data_key: bytes, label: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._wrapping_cipher().encrypt(nonce, data_key, label.encode())

    def unwrap(self, wrapped: bytes, label: str) -> bytes:
        try:
            return self._wrapping_cipher().decrypt(wrapped[:12], wrapped[12:], label.encode())
        except InvalidTag:
            raise KeyFileError(
                f"the key file {self.path} does not fit this database (wrong or replaced key)"
            ) from None


_warned_about: set[Path] = set()


def warn_if_others_can_read(path: Path) -> None:
    """One warning line (once per process) when the key file can be read by anyone but its
    owner: whoever reads it and the database reads everything."""
    mode = os.stat(path).st_mode
    if mode & 0o077 and path not in _warned_about:
        _warned_about.add(path)
        logging.getLogger("passage.keys").warning(
            "the key file %s is open to other users (mode %o): make it private with "
            "`chmod 600 %s`", path, mode & 0o777, path)


def new_key_file_content() -> str:
    return json.dumps({"key_id": os.urandom(8).hex(),
                       "key": base64.b64encode(os.urandom(32)).decode()}) + "\n"


def write_private(path: Path, content: str) -> None:
    """Create `path` readable only by its owner; fails if it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)


def replace_private(path: Path, content: str) -> None:
    """Write `path` whole and owner-only (0600), also over a file that was there with another
    mode: a new file beside it, then put in its place (nothing half-written is ever at `path`,
    and nobody holding the old file open, or linked to it, reads the new content)."""
    path = Path(path)
    os.makedirs(path.parent, mode=0o700, exist_ok=True)  # a folder it makes: owner-only
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask, or a stale partial file
            handle.write(content)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def create_key_file(path: Path) -> bool:
    """Write a new random master key readable only by its owner; False when one exists."""
    path = Path(path)
    if path.exists():
        return False
    write_private(path, new_key_file_content())
    return True
