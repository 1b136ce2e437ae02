"""What a SQLite database holds on disk, read by another process."""

from __future__ import annotations

import subprocess
from pathlib import Path


def raw_database(path: Path) -> bytes:
    """The database file and its write-ahead log, as bytes. Read by `cat`, not here: opening
    and closing the file in this process would drop every POSIX lock the process holds on it
    (SQLite's "How To Corrupt An SQLite Database File", 2.2), and a test engine with the
    database open, alongside a `passage` command writing to it, then corrupts it ("database
    disk image is malformed" in a later test)."""
    files = [str(p) for p in (Path(path), Path(f"{path}-wal")) if p.exists()]
    return subprocess.run(["cat", *files], capture_output=True, check=True).stdout
