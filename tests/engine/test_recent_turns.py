"""A long conversation is stored with its last turns, after what the earlier ones left
(bot/engine/recent_turns.py): it goes on as before, and what was said long ago is not kept."""

from rasa.shared.core.events import UserUttered

from bot.conversation import Person
from bot.engine.recent_turns import KEEP_TURNS, LIMIT
from tests.e2e.expectations import MADRID, nearest_service_name


async def test_a_long_conversation_remembers_the_area_and_forgets_old_words(passage,
                                                                           fresh_chat_id):
    person = Person(fresh_chat_id, "es")
    await passage.on_text(person, "no tengo dónde dormir esta noche")
    await passage.on_location(person, *MADRID)
    for _ in range(30):  # ~150 events: stored short more than once
        await passage.on_text(person, "/menu")
        await passage.on_text(person, "/help")
    stored = await passage._engine._tracker_store.retrieve(passage.pseudonym(person))
    said = [event.text for event in stored.events if isinstance(event, UserUttered)]
    assert len(stored.events) <= LIMIT and KEEP_TURNS <= len(said) < 30
    assert "no tengo dónde dormir esta noche" not in said
    assert stored.get_slot("need") == "shelter"

    [results] = await passage.on_text(person, "necesito un abogado")  # no "where are you?"
    assert nearest_service_name("legal", *MADRID) in results.text
