"""Leave no trace: quick exit, forget-me on the phone and in every table, the safe word,
coarse locations only, and retention with the clock moved."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from bot.conversation import Person
from bot.engine.tracker_store import EncryptedSQLTrackerStore
from bot.privacy import Privacy, is_exit_request
from bot.storage import Conversation, utcnow
from encryption import current
from tests.desk.conftest import Desk, case_number
from tests.desk.test_desk_rules import claimed_case
from tests.e2e.expectations import MADRID, nearest_service_name, shown
from tests.e2e.test_commands import PASSAGE, _env
from tests.fake_bot_api import inline_buttons
from tests.safety.stored import columns_holding


def on_screen(fake, user) -> list[str]:  # noqa: ANN001
    return [m.get("text") or str(m.get("location")) for m in fake.visible_messages(user)]


async def a_search(desk: Desk, user) -> None:  # noqa: ANN001
    await desk.say(user, "/start")
    await desk.say(user, "necesito un lugar seguro para dormir")
    await desk.fake.share_location(user, *MADRID)
    await desk.fake.wait_for_bot_messages(user)


@pytest.mark.parametrize("how", ["exit key", "/exit", "the word", "menu button"])
async def test_quick_exit_leaves_one_harmless_line(desk: Desk, how: str):
    user = desk.fake.new_user("Ana", "es")
    await a_search(desk, user)
    assert len(on_screen(desk.fake, user)) == 6
    if how == "exit key":
        keys = [b["text"] for row in desk.fake.reply_keyboard(user)["keyboard"] for b in row]
        assert keys[-1] == "🚪 Salir"
        await desk.fake.press_reply_button(user, "🚪 Salir")
    elif how == "menu button":
        [menu] = await desk.say(user, "/menu")
        assert ("🚪 Salir", "exit") in inline_buttons(menu)
        await desk.fake.press_button(user, menu["message_id"], "exit")
    else:
        await desk.fake.send_text(user, {"/exit": "/exit", "the word": "salir"}[how])
    await desk.fake.wait_for_bot_messages(user)
    assert on_screen(desk.fake, user) == ["👍"]
    assert desk.fake.reply_keyboard(user) is None
    assert desk.fake.rejected == []


async def test_quick_exit_deletes_a_message_the_bot_failed_to_answer(desk: Desk, passage,
                                                                     monkeypatch):
    user = desk.fake.new_user("Ana", "es")
    await a_search(desk, user)
    answer = passage.on_text

    async def failing(person, text, message_id=None):  # noqa: ANN001, ANN202
        if text == "me da miedo que lo vea":
            raise RuntimeError("the database went away")
        return await answer(person, text, message_id)

    monkeypatch.setattr(passage, "on_text", failing)
    await desk.fake.send_text(user, "me da miedo que lo vea")
    await desk.say(user, "hola")  # answered after the failed one: that one was handled
    assert "me da miedo que lo vea" in on_screen(desk.fake, user)
    await desk.fake.send_text(user, "/exit")
    await desk.fake.wait_for_bot_messages(user)
    assert on_screen(desk.fake, user) == ["👍"]


def test_exit_words_in_every_language_and_not_in_sentences():
    for word in ("exit", "Salir", "sortir", "SAIR", "ieșire", "выход", "вихід", "خروج", "退出",
                 "thoát", "labas", "ออก", "🚪 Exit", "/exit"):
        assert is_exit_request(word), word
    for text in ("how do I exit this country", "salir de aqui no puedo, me encierran", "exito"):
        assert not is_exit_request(text), text


async def test_quick_exit_in_a_case_ends_it_politely(desk: Desk):
    worker, survivor, case = await claimed_case(desk)
    await desk.say(survivor, "salir", replies=1)
    assert on_screen(desk.fake, survivor) == ["👍"]
    [told] = await desk.fake.wait_for_bot_messages(worker)
    assert told["text"] == shown("desk_survivor_exited", "en", case=case, pen=None)
    [nowhere] = await desk.say(worker, "¿estás ahí?")
    assert nowhere["text"] == shown("desk_not_sent", "en")
    assert on_screen(desk.fake, survivor) == ["👍"]  # nothing new appeared on their phone


@contextlib.asynccontextmanager
async def claim_held_up(desk: Desk, passage, monkeypatch, where: str):  # noqa: ANN001, ANN201
    """A survivor's case is claimed while the desk's outbox is held up on its way to them:
    `where` is "remembering" (the caseworker's greeting is on their screen, its id not yet
    kept for quick exit) or "sending" (the greeting was read from the outbox, not yet sent).
    Gives the caseworker, the survivor, the case, and the event that lets the outbox go on
    (set on leaving in any case, or the bot could not stop)."""
    worker = desk.caseworker("Rosa", "en,es")
    await desk.on_duty(worker)
    survivor = desk.fake.new_user("Ana", "es")
    chat = passage.pseudonym(Person(survivor.id))
    await desk.queue(survivor)
    [notice] = await desk.fake.wait_for_bot_messages(worker)
    case = case_number(notice["text"])
    go_on, held = asyncio.Event(), asyncio.Event()
    remember, pending = passage.remember_in_chat, passage.desk.pending

    async def remembering(chat_hash: str, message_ids: list[int]) -> None:
        if chat_hash == chat:
            held.set()
            await go_on.wait()
        await remember(chat_hash, message_ids)

    async def sending(limit: int = 100) -> list:
        items = await pending(limit)
        if any(item.chat_hash == chat for item in items) and not go_on.is_set():
            held.set()
            await go_on.wait()
        return items

    if where == "remembering":
        monkeypatch.setattr(passage, "remember_in_chat", remembering)
    else:
        monkeypatch.setattr(passage.desk, "pending", sending)
    try:
        await desk.press(worker, notice, f"desk:claim:{case}")
        assert await asyncio.wait_for(held.wait(), 10) is True
        yield worker, survivor, case, go_on
    finally:
        go_on.set()


def sent_to(fake, user) -> list[str]:  # noqa: ANN001
    """Every text the bot sent to this person, in order (deleted ones too: each was a
    notification on their screen)."""
    return [c.params.get("text") for c in fake.calls
            if c.ok and c.method == "sendMessage" and str(c.params.get("chat_id")) == str(user.id)]


async def test_a_greeting_arriving_at_quick_exit_is_wiped_with_the_rest(desk: Desk, passage,
                                                                       monkeypatch):
    """The race behind a test that failed once under load: the greeting was on the phone and
    the survivor left before the outbox had kept its id, so the wipe missed it. Nothing is
    shared with the worker that handles the exit but the database."""
    async with claim_held_up(desk, passage, monkeypatch, "remembering") as (
            worker, survivor, case, go_on):
        [greeting] = await desk.fake.wait_for_bot_messages(survivor)
        assert greeting["text"] in on_screen(desk.fake, survivor)
        await desk.say(survivor, "salir")  # the exit does not wait for the held-up outbox
        assert greeting["text"] in on_screen(desk.fake, survivor)
        go_on.set()
        [told] = await desk.fake.wait_for_bot_messages(worker)
        assert told["text"] == shown("desk_survivor_exited", "en", case=case, pen=None)
        assert await desk.fake.wait_until(lambda: on_screen(desk.fake, survivor) == ["👍"]), (
            desk.fake.transcript(survivor))


async def test_a_greeting_not_yet_sent_at_quick_exit_is_never_sent(desk: Desk, passage,
                                                                   monkeypatch):
    async with claim_held_up(desk, passage, monkeypatch, "sending") as (
            worker, survivor, case, go_on):
        await desk.say(survivor, "salir")
        assert on_screen(desk.fake, survivor) == ["👍"]
        go_on.set()
        [told] = await desk.fake.wait_for_bot_messages(worker)  # after the greeting, if sent
        assert told["text"] == shown("desk_survivor_exited", "en", case=case, pen=None)
        assert on_screen(desk.fake, survivor) == ["👍"], desk.fake.transcript(survivor)
        assert sent_to(desk.fake, survivor)[-1] == "👍"  # not even a notification after it


async def test_forget_me_clears_the_phone_and_every_table(desk: Desk, passage):
    user = desk.fake.new_user("Ana", "es")
    await a_search(desk, user)
    await desk.say(user, "/safeword girasol")
    [confirm] = await desk.say(user, "/forget")
    [done] = await desk.press(user, confirm, "forget:yes")
    assert on_screen(desk.fake, user) == [done["text"]] == [shown("forgotten", "es")]
    pseudonym = passage.pseudonym(Person(user.id))
    with Session(desk.engine) as session:
        assert columns_holding(session, pseudonym) == []


async def test_the_safe_word_answers_with_a_recipe_and_warns_the_caseworker(desk: Desk):
    worker, survivor, case = await claimed_case(desk)
    [saved] = await desk.say(survivor, "/safeword Mango")
    assert saved["text"] == shown("safe_word", "es", set=True)
    assert not any("Mango" in text for text in on_screen(desk.fake, survivor))
    [decoy] = await desk.say(survivor, "mango!")
    assert decoy["text"] == shown("decoy", "es")
    [warning] = await desk.fake.wait_for_bot_messages(worker)
    assert warning["text"] == shown("desk_safe_word", "en", case=case)
    assert "mango" not in warning["text"].lower()


async def test_a_configured_default_safe_word(database):
    privacy = Privacy(database, current(), "girasol")
    assert await privacy.is_safe_word("someone", "Girasol")
    assert not await privacy.is_safe_word("someone", "un girasol en el campo")
    assert not await Privacy(database, current(), None).is_safe_word("someone", "girasol")


async def test_privacy_says_what_is_kept_and_for_how_long(passage, fresh_chat_id):
    [reply] = await passage.on_text(Person(fresh_chat_id, "en"), "/privacy")
    assert "30 days" in reply.text and "/forget" in reply.text


async def test_only_a_coarse_area_of_a_shared_location_is_kept(passage, database, fresh_chat_id):
    person = Person(fresh_chat_id, "es")
    await passage.on_text(person, "necesito un lugar seguro para dormir")
    [results] = await passage.on_location(person, 40.41687, -3.70379)
    assert "Madrid" in results.text
    stored = EncryptedSQLTrackerStore(database)._load(passage.pseudonym(person))
    assert "40.4168" not in stored and "3.7037" not in stored
    assert '"/share_location"' in stored


async def test_no_distance_to_a_place_found_is_kept(passage, database, fresh_chat_id):
    """The survivor reads how far each place is, once; what is stored holds no distance, nor
    the places in their order by distance, from which the point searched from could be
    worked out."""
    person = Person(fresh_chat_id, "en")
    await passage.on_text(person, "I need a lawyer")
    [results] = await passage.on_location(person, *MADRID)
    nearest = nearest_service_name("legal", *MADRID)
    assert nearest in results.text and " km" in results.text
    stored = EncryptedSQLTrackerStore(database)._load(passage.pseudonym(person))
    assert "distance" not in stored and nearest not in stored
    assert [e["data"]["custom"] for e in json.loads(stored)["events"]
            if e["event"] == "bot"][-1] == {"message": "results", "need": "legal",
                                            "place": "Madrid"}


async def test_retention_purges_what_is_older(passage, database, fresh_chat_id):
    person = Person(fresh_chat_id, "en")
    await passage.on_text(person, "I need a lawyer")
    pseudonym = passage.pseudonym(person)
    await passage.retention.purge(utcnow() + timedelta(days=29))
    with Session(database) as session:
        assert session.get(Conversation, pseudonym) is not None
    await passage.retention.purge(utcnow() + timedelta(days=31))
    with Session(database) as session:
        assert session.get(Conversation, pseudonym) is None


def test_passage_purge_runs_without_the_bot(tmp_path):
    env = _env(type("S", (), {"home": tmp_path, "model_path": tmp_path / "none"})())
    subprocess.run([PASSAGE, "keys", "init"], env=env, check=True, capture_output=True)
    done = subprocess.run([PASSAGE, "purge"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Purged what was older than 30 days: 0 conversations")
    bad = subprocess.run([PASSAGE, "purge", "--older-than-days", "-1"], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
