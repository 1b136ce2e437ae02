"""The desk's rules that are not the happy path: time, erasure, media, stopping to wait."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk.models import Case, CaseMessage, Notice, Outbox
from bot.storage import Conversation, Profile, utcnow
from bot.telegram_app import deliver_outbox
from tests.desk.conftest import Desk, case_number, has_button
from tests.e2e.expectations import shown

PHOTO = [{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}]



async def claimed_case(desk: Desk, survivor_language: str = "es"):  # noqa: ANN201
    worker = desk.caseworker("Rosa", f"en,{survivor_language}")
    await desk.on_duty(worker)
    survivor = desk.fake.new_user("Ana", survivor_language)
    await desk.queue(survivor)
    [notice] = await desk.fake.wait_for_bot_messages(worker)
    case = case_number(notice["text"])
    await desk.press(worker, notice, f"desk:claim:{case}")
    await desk.fake.wait_for_bot_messages(survivor)
    return worker, survivor, case


async def test_a_long_wait_goes_to_supervisors_and_an_idle_chat_reminds(desk, bot, passage):
    sofia = desk.caseworker("Sofia", "en,ro", role="supervisor")
    await desk.say(sofia, "/help")  # she has opened the bot, but is not on duty
    survivor = desk.fake.new_user("Ioana", "ro")
    await desk.queue(survivor)

    await passage.desk.sweep(utcnow() + timedelta(minutes=11))
    await deliver_outbox(bot)
    [escalated] = await desk.fake.wait_for_bot_messages(sofia)
    case = case_number(escalated["text"])
    assert "Nobody has taken this case yet" in escalated["text"]
    await passage.desk.sweep(utcnow() + timedelta(minutes=12))
    assert await passage.desk.pending() == []  # escalated once, not every round

    await desk.press(sofia, escalated, f"desk:claim:{case}")
    await desk.fake.wait_for_bot_messages(survivor)
    await passage.desk.sweep(utcnow() + timedelta(minutes=16))
    await deliver_outbox(bot)
    [reminder] = await desk.fake.wait_for_bot_messages(sofia)
    assert reminder["text"].startswith(f"⏰ Case #{case}") and "16 minutes" in reminder["text"]
    await passage.desk.sweep(utcnow() + timedelta(minutes=17))
    assert await passage.desk.pending() == []  # one reminder per quiet spell

    # Retention: relayed messages older than the retention period are purged.
    await desk.say(survivor, "multumesc", replies=0)
    await desk.fake.wait_for_bot_messages(sofia)
    relayed = select(CaseMessage).where(CaseMessage.case_id == case)
    await passage.retention.purge(utcnow() + timedelta(days=29))
    with Session(desk.engine) as session:
        assert session.execute(relayed).first() is not None
    await passage.retention.purge(utcnow() + timedelta(days=31))
    with Session(desk.engine) as session:
        assert session.execute(relayed).first() is None


async def test_forget_me_during_a_case_erases_it_everywhere(desk, passage):
    worker, survivor, case = await claimed_case(desk)
    await desk.say(survivor, "mi jefe tiene mi pasaporte", replies=0)
    await desk.fake.wait_for_bot_messages(worker)
    [confirm] = await desk.say(survivor, "/forget")
    [done] = await desk.press(survivor, confirm, "forget:yes")
    assert done["text"] == shown("forgotten", "es")
    [told] = await desk.fake.wait_for_bot_messages(worker)
    assert told["text"] == shown("desk_erased", "en", case=case, pen=None)

    pseudonym = passage.pseudonym(type("P", (), {"chat_id": survivor.id})())
    with Session(desk.engine) as session:
        row = session.get(Case, case)
        assert (row.survivor, row.survivor_chat, row.summary) == (None, None, None)
        assert row.status == "closed" and row.close_reason == "erased"
        assert session.execute(select(CaseMessage).where(CaseMessage.case_id == case)).all() == []
        assert session.execute(select(Outbox).where(Outbox.chat_hash == pseudonym)).all() == []
        assert session.get(Conversation, pseudonym) is None
        assert session.get(Profile, pseudonym) is None
    # The caseworker's next words go nowhere, and they are told so.
    [nowhere] = await desk.say(worker, "¿sigues ahí?")
    assert nowhere["text"] == shown("desk_not_sent", "en")


async def test_photos_are_not_relayed_either_way(desk):
    worker, survivor, case = await claimed_case(desk, "fr")
    await desk.fake.send_content(survivor, photo=PHOTO)
    [refused] = await desk.fake.wait_for_bot_messages(survivor)
    assert refused["text"] == shown("handoff_text_only", "fr")
    await desk.fake.send_content(worker, photo=PHOTO)
    [refused_worker] = await desk.fake.wait_for_bot_messages(worker)
    assert refused_worker["text"] == shown("desk_text_only", "en")
    await desk.say(survivor, "d'accord", replies=0)
    [only_text] = await desk.fake.wait_for_bot_messages(worker)  # the photo never arrived
    assert only_text["text"] == f"💬 #{case}\nd'accord"


async def test_stopping_to_wait_updates_the_notices(desk):
    worker = desk.caseworker("Rosa", "en,pt")
    await desk.on_duty(worker)
    survivor = desk.fake.new_user("João", "pt")
    queued = await desk.queue(survivor)
    [notice] = await desk.fake.wait_for_bot_messages(worker)
    case = case_number(notice["text"])
    [ended] = await desk.press(survivor, queued, "handoff:end")
    assert ended["text"] == shown("handoff_ended", "pt")
    assert await desk.fake.wait_until(lambda: not has_button(next(
        m for m in desk.fake.visible_messages(worker)
        if m["message_id"] == notice["message_id"]), f"desk:claim:{case}"))
    with Session(desk.engine) as session:
        assert session.execute(select(Notice).where(Notice.case_id == case)).all() == []
    # Back with the bot at once.
    [menu] = await desk.say(survivor, "/menu")
    assert menu["text"] == shown("main_menu", "pt")


async def test_relayed_words_never_reach_a_log(desk, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    worker, survivor, case = await claimed_case(desk)
    await desk.say(survivor, "mi jefe se llama Qwertz y me pega", replies=0)
    await desk.fake.wait_for_bot_messages(worker)
    await desk.say(worker, "Voy a llamar a Zxcvb ahora", replies=0)
    await desk.fake.wait_for_bot_messages(survivor)
    await desk.say(worker, "/note Qwertz vive en la calle Yuiop")
    captured = capsys.readouterr()
    logged = caplog.text + captured.out + captured.err
    for secret in ("Qwertz", "Zxcvb", "Yuiop", str(survivor.id), str(worker.id)):
        assert secret not in logged
