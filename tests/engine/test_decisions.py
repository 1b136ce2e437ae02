"""What the Rasa model and the actions decide, one journey step at a time (no Telegram)."""

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation import Person
from bot.render import render
from bot.storage import Conversation, Profile
from tests.e2e.expectations import MADRID, nearest_service_name
from tests.on_disk import raw_database


def buttons(reply):
    return [b.data for row in reply.buttons for b in row]


async def test_start_greets_as_a_bot_with_a_safety_note_and_the_menu(passage, fresh_chat_id):
    [reply] = await passage.on_text(Person(fresh_chat_id, "en"), "/start")
    assert "a bot, not a person" in reply.text
    assert "Anyone who uses this phone can read this chat" in reply.text
    assert buttons(reply) == ["/emergency", "/find_service", "/talk_to_human", "/change_language",
                              "exit"]


async def test_a_need_in_free_text_asks_where_then_finds_the_nearest(passage, fresh_chat_id):
    person = Person(fresh_chat_id, "es")
    [ask] = await passage.on_text(person, "no tengo dónde dormir esta noche")
    assert ask.location_button, "asking where offers a one-tap location button"
    [results] = await passage.on_location(person, *MADRID)
    assert nearest_service_name("shelter", *MADRID) in results.text
    assert "Calle de Embajadores" not in results.text  # a confidential address


async def test_a_typed_city_works_like_a_shared_location(passage, fresh_chat_id):
    person = Person(fresh_chat_id, "en")
    await passage.on_text(person, "my boss keeps my passport")
    [results] = await passage.on_text(person, "Chicago")
    assert nearest_service_name("legal", 41.85003, -87.65005) in results.text


async def test_an_unknown_place_gets_a_clear_question_not_a_guess(passage, fresh_chat_id):
    person = Person(fresh_chat_id, "en")
    await passage.on_text(person, "I need food")
    [reply] = await passage.on_text(person, "Springfieldxx")
    assert "I don't know that place" in reply.text and reply.location_button


async def test_danger_gets_the_emergency_number_first(passage, fresh_chat_id):
    person = Person(fresh_chat_id, "en")
    await passage.on_location(person, *MADRID)  # somewhere in Spain
    replies = await passage.on_text(person, "help me they are going to kill me")
    assert "112" in replies[0].text
    assert "/need_shelter" in buttons(replies[0])


async def test_danger_without_a_known_place_still_gives_a_number(passage, fresh_chat_id):
    replies = await passage.on_button(Person(fresh_chat_id, "en"), "/emergency")
    assert "112" in replies[0].text and "local emergency number" in replies[0].text


async def test_asking_for_a_person_offers_one_and_asks_consent_first(passage, fresh_chat_id):
    [reply] = await passage.on_text(Person(fresh_chat_id, "en"), "I want to talk to a real person")
    assert "handoff:yes" in buttons(reply) and "/main_menu" in buttons(reply)
    assert "reads the messages you write here from now on" in reply.text
    assert await passage.desk.case_status(passage.pseudonym(Person(fresh_chat_id))) is None


async def test_not_understood_twice_offers_a_person(passage, fresh_chat_id):
    person = Person(fresh_chat_id, "en")
    [first] = await passage.on_text(person, "qwxz vbnp kjhg")
    assert "handoff:yes" not in buttons(first)  # the first miss: try again, in English
    assert first.text in (render({"message": "not_understood"}, "en").text,
                          render({"message": "out_of_scope"}, "en").text)
    [second] = await passage.on_text(person, "zzkq wvbx pqjm")
    assert "handoff:yes" in buttons(second) and "don't understand you well" in second.text


async def test_choosing_a_language_switches_every_later_reply(passage, fresh_chat_id):
    person = Person(fresh_chat_id, "en")
    [menu] = await passage.on_text(person, "/language")
    assert "lang:es" in buttons(menu)
    [changed] = await passage.on_button(person, "lang:es")
    assert "español" in changed.text
    [welcome] = await passage.on_text(person, "/start")
    assert "no una persona" in welcome.text


async def test_forged_or_stale_buttons_only_show_the_menu(passage, fresh_chat_id):
    forged = '/share_location{"location": "1,1"}'
    [reply] = await passage.on_button(Person(fresh_chat_id, "en"), forged)
    assert buttons(reply)[0] == "/emergency"


async def test_typed_commands_cannot_inject_intents_or_entities(passage, fresh_chat_id):
    injected = '/need_shelter{"place": "Madrid"}'
    [reply] = await passage.on_text(Person(fresh_chat_id, "en"), injected)
    assert "didn't understand" in reply.text


async def test_conversations_are_encrypted_at_rest(passage, settings, database, fresh_chat_id):
    chat_id = 987_654_321_000 + fresh_chat_id  # long enough not to occur by chance
    person = Person(chat_id, "es")
    await passage.on_text(person, "necesito un abogado urgente por favor")
    content = raw_database(Path(settings.database_url.removeprefix("sqlite:///")))
    assert b"abogado" not in content
    assert str(chat_id).encode() not in content


async def test_forget_me_erases_the_conversation_and_the_language(passage, database, fresh_chat_id):
    person = Person(fresh_chat_id, "en")
    await passage.on_button(person, "lang:es")
    [confirm] = await passage.on_text(person, "/forget")
    assert "forget:yes" in buttons(confirm)
    [done] = await passage.on_button(person, "forget:yes")
    assert "Borré todo" in done.text
    pseudonym = passage.pseudonym(person)
    with Session(database) as session:
        for table in (Conversation, Profile):
            assert session.execute(
                select(table).where(table.pseudonym == pseudonym)).first() is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [("no tengo donde dormir", "need_shelter"), ("my boss took my passport", "need_legal"),
     ("necesito un doctor", "need_medical"), ("quiero volver a mi pais", "need_return_home"),
     ("they locked me in the room", "emergency"), ("hola", "greet"), ("Madrid", "inform_place"),
     ("estoy en cdmx", "inform_place")],
)
async def test_understanding(passage, text, intent):
    parsed = await passage._engine.parse(text)
    assert parsed["intent"]["name"] == intent


async def test_a_long_message_in_another_language_switches_visibly(passage, fresh_chat_id):
    person = Person(fresh_chat_id, "en")  # the phone is set to English
    replies = await passage.on_text(person, "je n'ai nulle part où dormir ce soir")
    assert replies[0].text.startswith("Où es-tu")  # answered in French
    assert "/language" in replies[-1].text and "Français" in replies[-1].text  # and said so


async def test_a_short_message_never_switches_the_language(passage, fresh_chat_id):
    person = Person(fresh_chat_id, "en")
    await passage.on_text(person, "merci")
    assert await passage.language(person) == "en"


async def test_a_chosen_language_is_kept_whatever_is_written(passage, fresh_chat_id):
    person = Person(fresh_chat_id, "en")
    await passage.on_button(person, "lang:es")
    await passage.on_text(person, "je n'ai nulle part où dormir ce soir")
    assert await passage.language(person) == "es"
