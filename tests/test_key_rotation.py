"""`passage keys rotate` while Passage runs: the running bot keeps answering across it, and
afterwards no key row of the old master key or the retired data key is left."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine

import encryption
from bot.storage import all_metadata, make_engine
from encryption.columns import encrypted_columns
from encryption.keystore import open_crypto, rotate
from tests.conftest import SAMPLE_DIRECTORY
from tests.e2e.expectations import MADRID, nearest_service_name
from tests.e2e.test_commands import PASSAGE, STARTUP_SECONDS


@pytest.fixture(autouse=True)
def _keys_put_back():  # noqa: ANN202 - rotate() installs its keys; the session's come back
    installed = encryption._current
    yield
    encryption._current = installed


def _key_rows(database: Path) -> set[tuple[int, str]]:
    with sqlite3.connect(database) as connection:
        return set(connection.execute("SELECT key_id, master_key_id FROM encryption_keys"))


def _stored_headers(database: Path) -> set[tuple[int, int]]:
    """(format version, data key id) of every encrypted value on disk."""
    with sqlite3.connect(database) as connection:
        return {(blob[0], blob[1]) for table, column in encrypted_columns(all_metadata())
                for (blob,) in connection.execute(
                    f'SELECT "{column.name}" FROM "{table.name}" '
                    f'WHERE "{column.name}" IS NOT NULL')}


def _master_key_id(key_file: Path) -> str:
    return json.loads(key_file.read_text())["key_id"]


@pytest.fixture
def home(tmp_path: Path, model_path: Path) -> dict[str, str]:
    """A Passage home of its own (rotation replaces its key file), the sample directory in it."""
    import os

    env = {**os.environ, "PASSAGE_HOME": str(tmp_path / "home"), "PASSAGE_MODEL": str(model_path)}
    for command in (["keys", "init"], ["directory", "import", str(SAMPLE_DIRECTORY)]):
        done = subprocess.run([PASSAGE, *command], env=env, capture_output=True, text=True,
                              timeout=STARTUP_SECONDS)
        assert done.returncode == 0, done.stderr
    return env


async def test_a_running_bot_keeps_answering_across_a_rotation(fake_telegram, home):
    database, key_file = Path(home["PASSAGE_HOME"]) / "passage.db", Path(
        home["PASSAGE_HOME"]) / "master.key"
    process = await asyncio.create_subprocess_exec(
        PASSAGE, "run", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**home, "TELEGRAM_BOT_TOKEN": fake_telegram.token,
             "TELEGRAM_API_BASE_URL": fake_telegram.base_url})
    try:
        survivor = fake_telegram.new_user(language_code="es")
        await fake_telegram.send_text(survivor, "/start")
        await fake_telegram.wait_for_bot_messages(survivor, timeout=STARTUP_SECONDS)
        await fake_telegram.send_text(survivor, "necesito un lugar seguro para dormir")
        [where] = await fake_telegram.wait_for_bot_messages(survivor)
        old_master = _master_key_id(key_file)
        assert {key_id for key_id, _ in _key_rows(database)} == {0, 1}

        rotated = await asyncio.to_thread(
            subprocess.run, [PASSAGE, "keys", "rotate", "--no-wait"], env=home,
            capture_output=True, text=True, timeout=STARTUP_SECONDS)
        assert rotated.returncode == 0, rotated.stderr
        assert "data key 2 active" in rotated.stdout

        # The conversation goes on where it was: its stored state decrypts under the new key.
        await fake_telegram.share_location(survivor, *MADRID)
        [results] = await fake_telegram.wait_for_bot_messages(survivor)
        assert nearest_service_name("shelter", *MADRID) in results["text"], results["text"]
        assert fake_telegram.rejected == []
        assert "old data keys deleted: 1." in rotated.stdout
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()
    assert "Traceback" not in output.decode()
    new_master = _master_key_id(key_file)
    assert new_master != old_master
    assert _key_rows(database) == {(0, new_master), (2, new_master)}
    assert _stored_headers(database) == {(encryption.FORMAT_VERSION, 2)}


def test_a_process_that_loaded_the_keys_before_a_rotation_follows_it(tmp_path):
    """Two processes' worth of keys over one database: the one that did not rotate reads and
    writes on, under the new key, without a restart."""
    key_file, url = tmp_path / "master.key", f"sqlite:///{tmp_path / 'keys.db'}"
    encryption.create_key_file(key_file)
    worker = open_crypto(key_file, create_engine(url, future=True))
    before = worker.encrypt(b"written before", "c", "row")

    report = rotate(key_file, make_engine(url), [], settle_seconds=0)

    assert report.retired == [1]
    assert worker.encrypt(b"x", "c")[1] == report.new_key_id  # it writes with the new key
    after = open_crypto(key_file, create_engine(url, future=True)).encrypt(b"after", "c", "r")
    assert worker.decrypt(after, "c", "r") == b"after"
    with pytest.raises(encryption.DecryptionError, match="data key 1"):
        worker.decrypt(before, "c", "row")  # the retired key is gone everywhere


def test_a_rotation_keeps_an_old_key_a_value_still_uses(tmp_path, monkeypatch):
    """Retired only when nothing needs it: a value written with the old key after the last
    re-encryption pass (by a process elsewhere that has not reloaded yet) keeps that key
    readable, and the next rotation retires it."""
    from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert, select
    from sqlalchemy import type_coerce as raw

    from encryption import keystore
    from encryption.columns import EncryptedText

    key_file, engine = tmp_path / "master.key", make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    encryption.create_key_file(key_file)
    elsewhere = open_crypto(key_file, engine, reload_seconds=3600)
    elsewhere._reload = None  # another host: its key file is not replaced, it does not look
    late = MetaData()
    table = Table("late", late, Column("id", Integer, primary_key=True),
                  Column("value", EncryptedText("late.value")))
    late.create_all(engine)
    reencrypt = keystore.reencrypt

    def reencrypt_then_a_late_write(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        count = reencrypt(*args, **kwargs)
        with engine.begin() as connection:
            connection.execute(insert(table).values(id=1, value=raw(
                elsewhere.encrypt(b"late", "late.value"), LargeBinary)))
        return count

    monkeypatch.setattr(keystore, "reencrypt", reencrypt_then_a_late_write)
    report = rotate(key_file, engine, [late], settle_seconds=0)
    assert (report.retired, report.still_used) == ([], [1])
    encryption.install(open_crypto(key_file, engine))  # what a restart would have
    with engine.connect() as connection:
        assert connection.execute(select(table.c.value)).scalar_one() == "late"

    monkeypatch.setattr(keystore, "reencrypt", reencrypt)
    report = rotate(key_file, engine, [late], settle_seconds=0)
    assert (report.retired, report.still_used, report.reencrypted) == ([1, 2], [], 1)
    assert {key_id for key_id, _ in _key_rows(tmp_path / "k.db")} == {0, 3}


def test_a_key_file_that_no_longer_fits_leaves_a_running_process_its_keys(tmp_path, caplog):
    """Another host rotated and this host's key file was not copied yet (or someone put a
    wrong file in place): the process goes on with the keys it has and says why, once a look."""
    key_file, url = tmp_path / "master.key", f"sqlite:///{tmp_path / 'keys.db'}"
    encryption.create_key_file(key_file)
    worker = open_crypto(key_file, create_engine(url, future=True))
    written = worker.encrypt(b"still readable", "c", "row")
    encryption.create_key_file(tmp_path / "wrong.key")
    (tmp_path / "wrong.key").replace(key_file)
    worker._reload.looked_at -= 1  # as when the next look at the file is due

    assert worker.decrypt(written, "c", "row") == b"still readable"
    assert worker.encrypt(b"x", "c")[1] == 1
    assert "encryption keys not reloaded" in caplog.text and "does not fit" in caplog.text


def test_a_process_on_another_host_writes_nothing_with_a_key_a_rotation_retired(tmp_path):
    """Host B still has the old key file when host A's rotation (without waiting) retires the
    old data key: B must not write values nobody could read; once the new file is copied to
    it, B writes again and A reads what B wrote."""
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    host_a, host_b = tmp_path / "a.key", tmp_path / "b.key"
    encryption.create_key_file(host_a)
    host_b.write_bytes(host_a.read_bytes())
    process_a = open_crypto(host_a, create_engine(url, future=True))
    process_b = open_crypto(host_b, create_engine(url, future=True))
    assert process_b.encrypt(b"before", "c", "row")[1] == 1

    rotate(host_a, create_engine(url, future=True), [], settle_seconds=0)
    process_b._reload.loaded_at -= process_b._reload.every + 1  # B's next minutely look
    with pytest.raises(encryption.KeyFileError, match="copy the new key file"):
        process_b.encrypt(b"lost if written", "c", "row")

    host_b.write_bytes(host_a.read_bytes())
    process_b._reload.looked_at -= 1  # B notices its new key file at the next look
    written = process_b.encrypt(b"after the copy", "c", "row")
    process_a._reload.looked_at -= 1
    assert process_a.decrypt(written, "c", "row") == b"after the copy"
