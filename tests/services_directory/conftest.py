"""Fresh, empty directories (own database and key file) for tests that change or inspect one,
and the real `passage` command for tests that drive it as an admin does."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import encryption
from bot.settings import PROJECT_ROOT, Settings
from tests.on_disk import raw_database

SAMPLE = PROJECT_ROOT / "services_directory" / "sample" / "services.json"
# The official HSDS 3.0 examples, shipped with their licence (see hsds_examples/README.md).
HSDS_EXAMPLES = Path(__file__).resolve().parent / "hsds_examples"
PASSAGE = str(Path(sys.executable).with_name("passage"))
COMMAND_SECONDS = 60


def sample_services() -> list[dict[str, Any]]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@dataclass
class Directory:
    """One Passage database with its own key file."""

    settings: Settings
    engine: Engine
    crypto: encryption.Crypto

    def use(self) -> Engine:
        """Make this directory's keys the ones encrypted columns use (one per process)."""
        encryption.install(self.crypto)
        return self.engine

    @property
    def database_file(self) -> Path:
        return self.settings.home / "passage.db"

    def counts(self) -> dict[str, int]:
        """Rows per table, for every table Passage keeps."""
        from bot.storage import all_metadata

        with self.engine.connect() as connection:
            return {table.name: connection.execute(
                select(func.count()).select_from(table)).scalar_one()
                for metadata in all_metadata() for table in metadata.sorted_tables}


class DirectoryMaker:
    """Makes empty directories under `root`; puts back the keys installed before it."""

    def __init__(self, root: Path) -> None:
        self.root, self.made = root, []
        self._installed = encryption._current

    def __call__(self, name: str = "home") -> Directory:
        from bot.bootstrap import open_storage

        settings = Settings.from_env({"PASSAGE_HOME": str(self.root / name)})
        encryption.create_key_file(settings.key_file)
        engine = open_storage(settings)
        self.made.append(Directory(settings, engine, encryption.current()))
        return self.made[-1]

    def close(self) -> None:
        for directory in self.made:
            directory.engine.dispose()
        encryption._current = self._installed


@pytest.fixture
def new_directory(tmp_path: Path) -> Iterator[DirectoryMaker]:
    maker = DirectoryMaker(tmp_path)
    yield maker
    maker.close()


@pytest.fixture(scope="module")
def module_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DirectoryMaker]:
    """For directories that several tests of a module share (each test calls .use())."""
    maker = DirectoryMaker(tmp_path_factory.mktemp("directories"))
    yield maker
    maker.close()


def run_passage(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`passage ARGS...` as an admin types it, with PASSAGE_HOME=home."""
    return subprocess.run([PASSAGE, *args], capture_output=True, text=True,
                          timeout=COMMAND_SECONDS,
                          env={**os.environ, "PASSAGE_HOME": str(home), **env})


def files_digest(database_file: Path) -> str:
    """What is on disk for this SQLite database (main file and write-ahead log)."""
    return hashlib.sha256(raw_database(database_file)).hexdigest()
