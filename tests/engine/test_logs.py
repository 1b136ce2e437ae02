"""What survivors write never reaches a log, even with Passage's own logging at DEBUG."""

import logging

from bot.conversation import Person


async def test_no_message_text_or_id_in_any_log(passage, fresh_chat_id, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    secret_text = "mi patron me quito el pasaporte zqxj"
    person = Person(fresh_chat_id + 7_000_000, "es")
    await passage.on_text(person, secret_text)
    await passage.on_location(person, 40.416775, -3.703790)
    captured = capsys.readouterr()
    logged = caplog.text + captured.out + captured.err
    for secret in ("zqxj", "pasaporte", str(person.chat_id), "40.416775", "-3.70379"):
        assert secret not in logged
