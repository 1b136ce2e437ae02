"""The handoff desk end to end: two survivors and two caseworkers at once, through PTB and
the strict fake Bot API."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk.models import CaseEvent
from bot.safety import emergency_message
from tests.desk.conftest import Desk, case_number, has_button
from tests.e2e.expectations import MADRID, shown
from tests.fake_bot_api import inline_buttons


async def test_two_survivors_two_caseworkers(desk: Desk, fake_telegram):
    maria = desk.caseworker("Maria", "en,es")
    samir = desk.caseworker("Samir", "en,ar,fr", role="supervisor")
    await desk.on_duty(maria)
    await desk.on_duty(samir)

    # Ana (Spanish) looks for a shelter first, then asks for a person from the results.
    ana = fake_telegram.new_user("Ana", "es")
    await desk.say(ana, "/start")
    await desk.say(ana, "necesito un lugar seguro para dormir")
    await fake_telegram.share_location(ana, *MADRID)
    [results] = await fake_telegram.wait_for_bot_messages(ana)
    [offer] = await desk.press(ana, results, "/talk_to_human")
    assert "Passage sample caseworkers" in offer["text"]
    assert shown("handoff_offer", "es").splitlines()[3] in offer["text"]  # what they will see
    assert shown("handoff_offer", "es", on_duty=True).splitlines()[-1] in offer["text"]
    [summary] = await desk.press(ana, offer, "handoff:yes")
    assert "Madrid" in summary["text"] and "alojamiento seguro" in summary["text"]
    [queued] = await desk.press(ana, summary, "handoff:share")
    contacts = {k: v for k, v in emergency_message("ES").items() if k != "message"}
    assert queued["text"] == shown("handoff_queued", "es", position=1, on_duty=True, **contacts)

    # Language routing: only the Spanish speaker hears of Ana's case.
    [notice] = await fake_telegram.wait_for_bot_messages(maria)
    ana_case = case_number(notice["text"])
    assert "Madrid" in notice["text"] and "Ana" not in notice["text"]
    assert str(ana.id) not in notice["text"]
    assert has_button(notice, f"desk:claim:{ana_case}")

    # Karim (Arabic) asks without sharing anything; Samir (Arabic) hears of it.
    karim = fake_telegram.new_user("Karim", "ar")
    [queued_karim] = await desk.press(karim, await desk.ask_for_a_person(karim), "handoff:yes")
    assert "2" in queued_karim["text"]
    [notice_karim] = await fake_telegram.wait_for_bot_messages(samir)
    karim_case = case_number(notice_karim["text"])
    assert karim_case != ana_case

    # Claim race: both caseworkers claim Ana's case at the same moment; exactly one wins.
    await asyncio.gather(fake_telegram.send_text(maria, f"/claim {ana_case}"),
                         fake_telegram.send_text(samir, f"/claim {ana_case}"))
    [maria_says] = await fake_telegram.wait_for_bot_messages(maria)
    [samir_says] = await fake_telegram.wait_for_bot_messages(samir)
    won = [who for who, said in ((maria, maria_says), (samir, samir_says))
           if said["text"].startswith(f"You have case #{ana_case}")]
    lost = [said for said in (maria_says, samir_says) if "already taken" in said["text"]]
    assert len(won) == 1 and len(lost) == 1, (maria_says["text"], samir_says["text"])
    winner = won[0]
    other = samir if winner is maria else maria
    [joined] = await fake_telegram.wait_for_bot_messages(ana)
    assert winner.first_name in joined["text"]
    # Maria's notice no longer offers a claim, whoever won: it says who took the case.
    assert await fake_telegram.wait_until(lambda: not has_button(
        next(m for m in fake_telegram.visible_messages(maria)
             if m["message_id"] == notice["message_id"]), f"desk:claim:{ana_case}")), (
        fake_telegram.transcript(maria))

    # Relay both ways, clearly labelled.
    await desk.say(ana, "tengo miedo, no sé qué hacer", replies=0)
    [relayed] = await fake_telegram.wait_for_bot_messages(winner)
    assert relayed["text"] == f"💬 #{ana_case}\ntengo miedo, no sé qué hacer"
    await desk.say(winner, "Hola Ana, estoy aquí. ¿Estás a salvo ahora?", replies=0)
    [to_ana] = await fake_telegram.wait_for_bot_messages(ana)
    assert winner.first_name in to_ana["text"]
    assert to_ana["text"].endswith("Hola Ana, estoy aquí. ¿Estás a salvo ahora?")

    # A note is saved, never relayed: the next thing Ana sees is the next real message.
    [saved] = await desk.say(winner, "/note parece asustada, revisar refugio")
    assert "Note saved" in saved["text"]
    await desk.say(winner, "Te busco un sitio.", replies=0)
    [next_for_ana] = await fake_telegram.wait_for_bot_messages(ana)
    assert "Te busco un sitio." in next_for_ana["text"]
    assert "asustada" not in "\n".join(m.get("text", "") for m in
                                       fake_telegram.visible_messages(ana))

    # Transfer to the other caseworker, who sees the history and the note; what they type
    # goes to Ana only once they choose her case.
    [moved] = await desk.say(winner, f"/transfer {other.first_name}")
    assert other.first_name in moved["text"]
    assert moved["text"].endswith(shown("desk_transferred_out", "en", case=ana_case,
                                        to=other.first_name, pen=None).splitlines()[-1])
    [taken_over] = await fake_telegram.wait_for_bot_messages(other)
    assert "tengo miedo" in taken_over["text"] and "asustada" in taken_over["text"]
    assert f"/case {ana_case} to write there" in taken_over["text"]
    [told_ana] = await fake_telegram.wait_for_bot_messages(ana)
    assert other.first_name in told_ana["text"]
    await desk.say(ana, "gracias", replies=0)
    [to_other] = await fake_telegram.wait_for_bot_messages(other)
    assert to_other["text"].endswith("gracias")
    [chosen] = await desk.say(other, f"/case {ana_case}")
    assert "What you write here now goes to this person" in chosen["text"]

    # Release: back in the queue, everyone on duty hears of it; then claimed again and closed.
    [released] = await desk.say(other, "/release")
    assert f"#{ana_case}" in released["text"]
    [back_in_queue] = await fake_telegram.wait_for_bot_messages(ana)
    assert back_in_queue["text"] == shown("handoff_released", "es")
    [renotice] = await fake_telegram.wait_for_bot_messages(winner)
    [claimed_again] = await desk.press(winner, renotice, f"desk:claim:{ana_case}")
    assert claimed_again["text"].startswith(f"You have case #{ana_case}")
    await fake_telegram.wait_for_bot_messages(ana)  # "... is here now"
    [closed] = await desk.say(winner, "/close")
    assert "closed" in closed["text"]
    [goodbye] = await fake_telegram.wait_for_bot_messages(ana)
    assert goodbye["text"] == shown("handoff_closed", "es")

    # Back with the bot, which remembers where she was (need and place), nothing lost.
    [answer] = await desk.say(ana, "necesito un lugar seguro para dormir")
    assert "Madrid" in answer["text"]

    # Meanwhile Karim's case: Samir claims it and they talk in Arabic.
    [karim_claimed] = await desk.press(samir, notice_karim, f"desk:claim:{karim_case}")
    assert karim_claimed["text"].startswith(f"You have case #{karim_case}")
    await fake_telegram.wait_for_bot_messages(karim)
    await desk.say(karim, "أنا بخير الآن، أحتاج محامي", replies=0)
    [relayed_karim] = await fake_telegram.wait_for_bot_messages(samir)
    assert "أحتاج محامي" in relayed_karim["text"]
    await desk.say(karim, "/end")
    [left] = await fake_telegram.wait_for_bot_messages(samir)
    assert f"#{karim_case}" in left["text"] and "ended" in left["text"]

    # Every state change is a row: who and when.
    with Session(desk.engine) as session:
        kinds = list(session.execute(select(CaseEvent.kind).where(
            CaseEvent.case_id == ana_case).order_by(CaseEvent.id)).scalars())
    assert kinds[:3] == ["consented", "queued", "claimed"]
    assert kinds[3].startswith("transferred:") and kinds[4:] == [
        "released", "claimed", "closed:caseworker"]
    assert fake_telegram.rejected == []


async def test_nobody_on_duty_the_survivor_leaves_a_message(desk: Desk, fake_telegram):
    lena = desk.caseworker("Lena", "en,uk,ru")
    vira = fake_telegram.new_user("Vira", "uk")
    offer = await desk.ask_for_a_person(vira)
    assert shown("handoff_offer", "uk", on_duty=False).splitlines()[-1] in offer["text"]
    [queued] = await desk.press(vira, offer, "handoff:yes")
    assert "112" in queued["text"]  # numbers for now, while nobody is there
    assert any(b == "handoff:end" for _, b in inline_buttons(queued))
    [saved] = await desk.say(vira, "мені потрібна допомога з документами, я в Лондоні")
    assert saved["text"] == shown("handoff_saved", "uk")

    # Danger while waiting: the numbers come first, still in the queue.
    [numbers, saved_again] = await desk.say(vira, "він зараз б'є мене, допоможіть", 2)
    assert numbers["text"] == shown("emergency", "uk", numbers=["112"])
    assert saved_again["text"] == shown("handoff_saved", "uk")

    # Lena comes on duty, sees the case first (urgent) and gets what Vira wrote.
    await fake_telegram.send_text(lena, "/duty on")
    [duty, queue] = await fake_telegram.wait_for_bot_messages(lena, 2)
    case = case_number(queue["text"])
    assert "⚠️" in queue["text"]
    [opened] = await desk.press(lena, queue, f"desk:claim:{case}")
    assert "документами" in opened["text"] and "б'є мене" in opened["text"]
    [joined] = await fake_telegram.wait_for_bot_messages(vira)
    assert "Lena" in joined["text"]
    assert fake_telegram.rejected == []


async def test_only_the_roster_gets_the_desk_and_roles_are_checked(desk: Desk, fake_telegram):
    stranger = fake_telegram.new_user("Eve", "en")
    [reply] = await desk.say(stranger, "/duty on")
    assert reply["text"] == shown("not_understood", "en")
    [reply] = await desk.say(stranger, "/queue")
    assert reply["text"] == shown("not_understood", "en")

    worker = desk.caseworker("Tom", "en")
    admin = desk.caseworker("Ada", "en,fr", role="admin")
    [refused] = await desk.say(worker, "/roster")
    assert refused["text"] == shown("desk_not_allowed", "en")
    [listing] = await desk.say(admin, "/roster")
    assert "Tom" in listing["text"] and "Ada" in listing["text"]
    [nothing] = await desk.say(worker, "hello?")
    assert nothing["text"] == shown("desk_not_sent", "en")

    # The desk writes to each caseworker in their first language.
    french = desk.caseworker("Luc", "fr,en")
    [aide] = await desk.say(french, "/help")
    assert aide["text"] == shown("desk_help", "fr")
    assert fake_telegram.rejected == []
