import json
import stat

import pytest

from encryption import Crypto, DecryptionError, KeyFileError, create_key_file


def test_values_round_trip_and_are_bound_to_their_context(tmp_path):
    create_key_file(tmp_path / "k")
    crypto = Crypto.from_key_file(tmp_path / "k")
    blob = crypto.encrypt(b"Calle de Embajadores 41", "addresses.address_1")
    assert b"Embajadores" not in blob
    assert crypto.decrypt(blob, "addresses.address_1") == b"Calle de Embajadores 41"
    with pytest.raises(DecryptionError):
        crypto.decrypt(blob, "phones.number")


def test_same_value_encrypts_differently_each_time(tmp_path):
    create_key_file(tmp_path / "k")
    crypto = Crypto.from_key_file(tmp_path / "k")
    assert crypto.encrypt(b"x", "c") != crypto.encrypt(b"x", "c")


def test_another_key_cannot_decrypt(tmp_path):
    create_key_file(tmp_path / "a")
    create_key_file(tmp_path / "b")
    blob = Crypto.from_key_file(tmp_path / "a").encrypt(b"secret", "c")
    with pytest.raises(DecryptionError):
        Crypto.from_key_file(tmp_path / "b").decrypt(blob, "c")


def test_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "master.key"
    assert create_key_file(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    assert create_key_file(path) is False
    assert path.read_text() == before


@pytest.mark.parametrize("content", ["", "not json", json.dumps({"key": "AAAA"})])
def test_a_bad_key_file_is_one_clear_error(tmp_path, content):
    path = tmp_path / "master.key"
    path.write_text(content)
    with pytest.raises(KeyFileError, match="master.key"):
        Crypto.from_key_file(path)


def test_a_missing_key_file_says_how_to_create_one(tmp_path):
    with pytest.raises(KeyFileError, match="passage keys init"):
        Crypto.from_key_file(tmp_path / "absent.key")


def test_pseudonyms_are_stable_per_key_and_reveal_nothing(tmp_path):
    create_key_file(tmp_path / "a")
    create_key_file(tmp_path / "b")
    a, b = Crypto.from_key_file(tmp_path / "a"), Crypto.from_key_file(tmp_path / "b")
    assert a.pseudonym("telegram-chat", 123456789) == a.pseudonym("telegram-chat", 123456789)
    assert a.pseudonym("telegram-chat", 123456789) != b.pseudonym("telegram-chat", 123456789)
    assert "123456789" not in a.pseudonym("telegram-chat", 123456789)
