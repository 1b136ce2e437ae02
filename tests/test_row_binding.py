"""Encrypted values are bound to their row: someone who can write the database but has no key
cannot move or swap a ciphertext between rows (to send a caseworker's reply to another
survivor). Values written before (format 1, bound to the column only) still read, and
`passage keys rotate` rewrites them bound to their row."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, select, update
from sqlalchemy import type_coerce as raw
from sqlalchemy.exc import StatementError

import encryption
from bot.desk.models import Case
from bot.storage import make_engine
from encryption.columns import EncryptedText, RowBound
from encryption.keystore import open_crypto, rotate
from tests.desk.conftest import Desk, case_number
from tests.desk.test_desk_rules import claimed_case
from tests.e2e.expectations import shown


@pytest.fixture(autouse=True)
def _keys_put_back():  # noqa: ANN202 - the session's keys are installed again afterwards
    installed = encryption._current
    yield
    encryption._current = installed


def _swap(engine, table, column, key, first, second) -> None:  # noqa: ANN001
    """Exchange two rows' ciphertexts as bytes, as someone without the key could."""
    stored = raw(column, LargeBinary)
    with engine.begin() as connection:
        a, b = (connection.execute(select(stored).where(key == row)).scalar_one()
                for row in (first, second))
        for row, value in ((first, b), (second, a)):
            connection.execute(update(table).where(key == row).values(
                {column.name: raw(value, LargeBinary)}))


def test_a_value_encrypted_for_one_row_does_not_decrypt_in_another(tmp_path):
    encryption.create_key_file(tmp_path / "k")
    crypto = open_crypto(tmp_path / "k", make_engine(f"sqlite:///{tmp_path / 'k.db'}"))
    blob = crypto.encrypt(b"100200300", "desk_cases.survivor_chat", "pseudonym-of-ana")
    assert blob[0] == encryption.FORMAT_VERSION == 2
    assert crypto.decrypt(blob, "desk_cases.survivor_chat", "pseudonym-of-ana") == b"100200300"
    for row in ("pseudonym-of-luis", None, "pseudonym-of-an"):
        with pytest.raises(encryption.DecryptionError):
            crypto.decrypt(blob, "desk_cases.survivor_chat", row)


def _format_1(crypto: encryption.Crypto, plaintext: bytes, context: str) -> bytes:
    """A value as Passage wrote it before rows were bound: bound to its column only."""
    header, nonce = bytes([1, crypto.active_key_id]), os.urandom(12)
    cipher = crypto._ciphers[crypto.active_key_id]
    return header + nonce + cipher.encrypt(nonce, plaintext, header + context.encode())


def test_old_values_still_read_and_rotation_binds_them_to_their_row(tmp_path):
    key_file, engine = tmp_path / "master.key", make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    encryption.create_key_file(key_file)
    crypto = open_crypto(key_file, engine)
    encryption.install(crypto)
    schema = MetaData()
    chats = Table("chats", schema, Column("id", Integer, primary_key=True),
                  Column("owner", String(64), nullable=False),
                  Column("chat", EncryptedText("chats.chat", row_key="owner")))
    schema.create_all(engine)
    with engine.begin() as connection:
        for id_, owner, chat in ((1, "ana", b"111"), (2, "luis", b"222")):
            connection.execute(chats.insert().values(id=id_, owner=owner, chat=raw(
                _format_1(crypto, chat, "chats.chat"), LargeBinary)))

    def read() -> list[tuple[str, str]]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(
                select(chats.c.owner, chats.c.chat).order_by(chats.c.id))]

    assert read() == [("ana", "111"), ("luis", "222")]
    report = rotate(key_file, engine, [schema], settle_seconds=0)
    assert report.reencrypted == 2
    assert read() == [("ana", "111"), ("luis", "222")]
    with engine.connect() as connection:
        stored = connection.execute(select(raw(chats.c.chat, LargeBinary))).scalars()
        assert {bytes(blob)[0] for blob in stored} == {2}

    _swap(engine, chats, chats.c.chat, chats.c.id, 1, 2)
    with pytest.raises(encryption.DecryptionError):
        read()
    with engine.begin() as connection:  # a Core write names the row it is for
        connection.execute(update(chats).where(chats.c.id == 1).values(
            chat=RowBound("111", "ana")))
        with pytest.raises(StatementError, match="bound to its row"):
            connection.execute(update(chats).where(chats.c.id == 2).values(chat="222"))


async def test_a_chat_id_swapped_between_cases_does_not_take_the_reply_elsewhere(
        desk: Desk, passage):
    worker, ana, case_ana = await claimed_case(desk)
    luis = desk.fake.new_user("Luis", "es")
    await desk.queue(luis)
    [notice] = await desk.fake.wait_for_bot_messages(worker)  # a new case: Luis's
    case_luis = case_number(notice["text"])
    seen_by_luis = len(desk.fake.visible_messages(luis))

    _swap(desk.engine, Case.__table__, Case.survivor_chat, Case.id, case_ana, case_luis)
    await desk.fake.send_text(worker, "Hola Ana, ¿dónde estás ahora?")
    [helped] = await desk.say(worker, "/help")  # answered after the reply was handled

    assert helped["text"] == shown("desk_help", "en", supervisor=False, on_duty=True)
    survivors = {ana.id, luis.id}
    assert [o for o in await passage.desk.pending() if o.chat_id in survivors] == []
    assert len(desk.fake.visible_messages(luis)) == seen_by_luis
    assert not any("dónde estás" in (m.get("text") or "")
                   for m in desk.fake.visible_messages(ana) + desk.fake.visible_messages(luis))
