"""Keys as an operator handles them: rotation re-encrypts everything under a new key and the
directory keeps working; a wrong or missing key is one line, exit status 2, nothing written."""

from __future__ import annotations

import json
import sqlite3
import stat
from dataclasses import asdict
from pathlib import Path

import pytest

import encryption
from bot.storage import all_metadata
from encryption import KeyFileError
from encryption.columns import encrypted_columns
from encryption.keystore import open_crypto, rotate
from services_directory import Near, search
from services_directory.admin import show_service
from services_directory.importer import import_path
from tests.services_directory.conftest import (
    HSDS_EXAMPLES,
    SAMPLE,
    files_digest,
    run_passage,
    sample_services,
)

MADRID = Near(40.4168, -3.7038)


def _encrypted_values(database_file: Path) -> list[tuple[str, bytes]]:
    with sqlite3.connect(database_file) as connection:
        return [(f"{table.name}.{column.name}", bytes(blob))
                for table, column in encrypted_columns(all_metadata())
                for (blob,) in connection.execute(
                    f'SELECT "{column.name}" FROM "{table.name}" '
                    f'WHERE "{column.name}" IS NOT NULL')]


def _master_key_ids(database_file: Path) -> set[str]:
    with sqlite3.connect(database_file) as connection:
        return {row[0] for row in connection.execute("SELECT master_key_id FROM encryption_keys")}


def test_rotation_re_encrypts_everything_and_the_old_key_no_longer_fits(
        new_directory, tmp_path):
    directory = new_directory()
    engine, key_file = directory.engine, directory.settings.key_file
    assert import_path(engine, SAMPLE).imported
    confidential = next(s["id"] for s in sample_services() if any(
        link["location"].get("confidential") for link in s.get("service_at_locations") or []))
    shown_before = show_service(engine, confidential)
    found_before = [asdict(m) for m in search(engine, "shelter", MADRID, limit=20)]
    old_content = key_file.read_text()
    old_key = tmp_path / "old.key"
    old_key.write_text(old_content)
    values_before = _encrypted_values(directory.database_file)
    assert {blob[1] for _, blob in values_before} == {1}

    report = rotate(key_file, engine, all_metadata(), settle_seconds=0)

    assert key_file.read_text() != old_content
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not Path(f"{key_file}.new").exists()
    assert report.new_key_id == 2 and report.reencrypted == len(values_before)
    values_after = _encrypted_values(directory.database_file)
    assert len(values_after) == len(values_before)
    stale = sorted({column for column, blob in values_after
                    if blob[0] != encryption.FORMAT_VERSION or blob[1] != report.new_key_id})
    assert stale == []
    assert _master_key_ids(directory.database_file) == {json.loads(key_file.read_text())["key_id"]}

    # What is on disk now is all a restarted Passage has: the new key file opens it.
    encryption.install(open_crypto(key_file, engine))
    assert show_service(engine, confidential) == shown_before
    assert [asdict(m) for m in search(engine, "shelter", MADRID, limit=20)] == found_before
    with pytest.raises(KeyFileError, match="does not fit"):
        open_crypto(old_key, engine)


@pytest.fixture
def imported_home(new_directory):  # noqa: ANN001, ANN201 - a Directory
    """A home with a small directory in it, closed as after `passage directory import`."""
    directory = new_directory()
    assert import_path(directory.engine, HSDS_EXAMPLES / "service_full.json").imported
    directory.engine.dispose()  # everything on disk, nothing held open
    return directory


def _wrong_key(path: Path) -> Path:
    encryption.create_key_file(path)
    return path


def _garbage_key(path: Path) -> Path:
    path.write_text("this is not a key\n")
    return path


@pytest.mark.parametrize(("make_key", "says"), [
    (_wrong_key, "does not fit this database"),
    (lambda path: path, "key file not found"),
    (_garbage_key, "not a Passage key file"),
])
def test_a_wrong_or_missing_key_is_one_line_and_changes_nothing(
        imported_home, tmp_path, make_key, says):
    key = make_key(tmp_path / "other.key")
    before_files = files_digest(imported_home.database_file)
    before_rows = imported_home.counts()
    imported_home.engine.dispose()

    done = run_passage(imported_home.settings.home, "directory", "import", str(SAMPLE),
                       PASSAGE_KEY_FILE=str(key))

    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("passage: ") and says in line and str(key) in line
    assert done.stdout == ""
    assert files_digest(imported_home.database_file) == before_files
    assert imported_home.counts() == before_rows
    if says == "key file not found":
        assert not key.exists()  # no key made up on the way
