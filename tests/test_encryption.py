import json
import stat

import pytest
from sqlalchemy import create_engine

from encryption import DecryptionError, KeyFileError, create_key_file
from encryption.keystore import open_crypto


@pytest.fixture
def engine(tmp_path):
    return create_engine(f"sqlite:///{tmp_path / 'keys.db'}", future=True)


def _crypto(tmp_path, engine, name="k"):
    create_key_file(tmp_path / name)
    return open_crypto(tmp_path / name, engine)


def test_values_round_trip_and_are_bound_to_their_context(tmp_path, engine):
    crypto = _crypto(tmp_path, engine)
    blob = crypto.encrypt(b"Calle de Embajadores 41", "hsds_address.address_1")
    assert b"Embajadores" not in blob
    assert crypto.decrypt(blob, "hsds_address.address_1") == b"Calle de Embajadores 41"
    with pytest.raises(DecryptionError):
        crypto.decrypt(blob, "hsds_phone.number")


def test_same_value_encrypts_differently_each_time(tmp_path, engine):
    crypto = _crypto(tmp_path, engine)
    assert crypto.encrypt(b"x", "c") != crypto.encrypt(b"x", "c")


def test_another_database_key_cannot_decrypt(tmp_path):
    a = _crypto(tmp_path, create_engine(f"sqlite:///{tmp_path / 'a.db'}"), "a")
    b = _crypto(tmp_path, create_engine(f"sqlite:///{tmp_path / 'b.db'}"), "b")
    with pytest.raises(DecryptionError):
        b.decrypt(a.encrypt(b"secret", "c"), "c")


def test_a_key_file_that_does_not_fit_the_database_is_refused(tmp_path, engine):
    _crypto(tmp_path, engine, "right")
    create_key_file(tmp_path / "wrong")
    with pytest.raises(KeyFileError, match="does not fit this database"):
        open_crypto(tmp_path / "wrong", engine)


def test_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "master.key"
    assert create_key_file(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    assert create_key_file(path) is False
    assert path.read_text() == before


@pytest.mark.parametrize("content", ["", "not json", json.dumps({"key": "AAAA", "key_id": 1})])
def test_a_bad_key_file_is_one_clear_error(tmp_path, engine, content):
    path = tmp_path / "master.key"
    path.write_text(content)
    with pytest.raises(KeyFileError, match="master.key"):
        open_crypto(path, engine)


def test_a_missing_key_file_says_how_to_create_one(tmp_path, engine):
    with pytest.raises(KeyFileError, match="passage keys init"):
        open_crypto(tmp_path / "absent.key", engine)


def test_pseudonyms_are_stable_per_key_and_reveal_nothing(tmp_path, engine):
    a = _crypto(tmp_path, engine, "a")
    again = open_crypto(tmp_path / "a", engine)
    b = _crypto(tmp_path, create_engine(f"sqlite:///{tmp_path / 'b.db'}"), "b")
    assert a.pseudonym("telegram-chat", 123456789) == again.pseudonym("telegram-chat", 123456789)
    assert a.pseudonym("telegram-chat", 123456789) != b.pseudonym("telegram-chat", 123456789)
    assert "123456789" not in a.pseudonym("telegram-chat", 123456789)
