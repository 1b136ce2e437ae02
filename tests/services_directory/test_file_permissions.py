"""Everything Passage keeps under PASSAGE_HOME is its owner's alone: the folder 0700, the
database and its write-ahead files 0600, exports 0600 even over a file that was 0644, and a
key file others can read is named in one warning line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.services_directory.conftest import SAMPLE, run_passage


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_home_database_and_key_file_are_the_owners_alone(tmp_path):
    home = tmp_path / "var"
    assert run_passage(home, "keys", "init").returncode == 0
    done = run_passage(home, "directory", "import", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    assert mode(home) == 0o700
    assert mode(home / "master.key") == 0o600
    database_files = [home / name for name in ("passage.db", "passage.db-wal", "passage.db-shm")
                      if (home / name).exists()]
    assert home / "passage.db" in database_files
    assert {path.name: mode(path) for path in database_files} == {
        path.name: 0o600 for path in database_files}


def test_a_home_and_database_made_before_are_made_private(tmp_path):
    """What an older Passage left: ./var 0755 and passage.db 0644."""
    home = tmp_path / "var"
    assert run_passage(home, "keys", "init").returncode == 0
    assert run_passage(home, "directory", "stats").returncode == 0
    os.chmod(home, 0o755)
    os.chmod(home / "passage.db", 0o644)
    assert run_passage(home, "directory", "stats").returncode == 0
    assert (mode(home), mode(home / "passage.db")) == (0o700, 0o600)


def test_a_key_file_others_can_read_is_named_in_one_warning_line(tmp_path):
    home = tmp_path / "var"
    assert run_passage(home, "keys", "init").returncode == 0
    key_file = home / "master.key"
    quiet = run_passage(home, "directory", "stats")
    assert quiet.returncode == 0 and "key file" not in quiet.stderr
    os.chmod(key_file, 0o644)
    done = run_passage(home, "directory", "stats")
    assert done.returncode == 0
    warnings = [line for line in done.stderr.splitlines() if "key file" in line]
    assert len(warnings) == 1, done.stderr
    assert str(key_file) in warnings[0] and f"chmod 600 {key_file}" in warnings[0]


def test_an_export_over_a_file_others_could_read_is_the_owners_alone(tmp_path):
    home = tmp_path / "var"
    assert run_passage(home, "keys", "init").returncode == 0
    assert run_passage(home, "directory", "import", str(SAMPLE)).returncode == 0
    target = tmp_path / "exports" / "directory.json"
    target.parent.mkdir()
    target.write_text("an older export\n")
    os.chmod(target, 0o644)
    csv_folder = tmp_path / "csv"
    csv_folder.mkdir()
    (csv_folder / "services.csv").write_text("old\n")
    os.chmod(csv_folder / "services.csv", 0o644)
    for args in (["--format", "json", "--out", str(target)],
                 ["--format", "csv", "--out", str(csv_folder)]):
        done = run_passage(home, "directory", "export", *args)
        assert done.returncode == 0, done.stderr
    assert mode(target) == 0o600
    assert "an older export" not in target.read_text(encoding="utf-8")
    written = sorted(csv_folder.iterdir())
    assert len(written) > 10 and {p.name: mode(p) for p in written} == {
        p.name: 0o600 for p in written}
    assert not list(tmp_path.rglob("*.partial"))
