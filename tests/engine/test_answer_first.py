"""The Telegram edge sends a message's replies while the conversation is still being written
(ConversationEngine.answering_first): the replies come first, and leaving waits until the
conversation is stored, so the person's next message finds it whole."""

import asyncio
import threading

from bot.conversation import Person


async def test_replies_come_while_the_conversation_is_written(passage, fresh_chat_id,
                                                              monkeypatch):
    person = Person(fresh_chat_id, "es")
    await passage.on_text(person, "hola")  # the conversation exists, stored
    store, pseudonym = passage._engine._tracker_store, passage.pseudonym(person)
    write, written = store._save, threading.Event()

    def slow_write(tracker):  # noqa: ANN001 - the database is slow today
        written.wait(10)
        write(tracker)

    monkeypatch.setattr(store, "_save", slow_write)
    answered = asyncio.get_running_loop().create_future()

    async def one_update() -> None:  # as the Telegram edge handles one
        async with passage.answering_first(person):
            answered.set_result(await passage.on_text(person, "no tengo dónde dormir esta noche"))

    update = asyncio.ensure_future(one_update())
    assert await asyncio.wait_for(answered, 10), "the answer waited for the write"
    assert (await store.retrieve(pseudonym)).get_slot("need") is None  # not written yet
    await asyncio.sleep(0.05)
    assert not update.done()  # the update is not done before its conversation is stored
    written.set()
    await asyncio.wait_for(update, 10)
    assert (await store.retrieve(pseudonym)).get_slot("need") == "shelter"


async def test_outside_it_a_message_is_written_before_its_replies_return(passage,
                                                                         fresh_chat_id):
    person = Person(fresh_chat_id, "es")
    await passage.on_text(person, "no tengo dónde dormir esta noche")
    stored = await passage._engine._tracker_store.retrieve(passage.pseudonym(person))
    assert stored.get_slot("need") == "shelter"
