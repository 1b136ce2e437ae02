"""Forget-me reaches every message the desk holds for someone else that carries the survivor's
words: nothing of them is left waiting to be sent. The desk is driven as the bot drives it,
with nobody sending the outbox, so what waits there can be looked at."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from bot.desk import cases, roster
from bot.desk.desk import Desk
from bot.i18n import SUPPORTED_LANGUAGES, translations
from bot.render import render

WORDS = "mi jefe tiene mi pasaporte, calle Qwerty 12"
ROSA, LU = 7_001, 7_002  # Telegram ids of two caseworkers
SURVIVOR, SURVIVOR_CHAT = "erasure-test-survivor", 9_100


async def waiting_with_the_words(desk: Desk) -> list[str]:
    """What waits in the outbox that still carries the survivor's words."""
    return [item.message["message"] for item in await desk.pending(1000)
            if "Qwerty" in json.dumps(item.message, ensure_ascii=False)]


async def test_forget_erases_the_history_queued_for_the_receiver_of_a_transfer(
        passage, clean_desk):
    desk: Desk = passage.desk
    roster.add(clean_desk, ROSA, "Rosa", "en,es", None, "caseworker")
    roster.add(clean_desk, LU, "Lu", "en,es", None, "caseworker")
    for caseworker in (ROSA, LU):
        await desk.caseworker_command(caseworker, "/duty", "on")
    await desk.consent(SURVIVOR, SURVIVOR_CHAT, "es", {"need": "shelter", "area": "Madrid"})
    await desk.enqueue(SURVIVOR, True, "ES")
    await desk.caseworker_command(ROSA, "/claim", "")
    await desk.survivor_writes(SURVIVOR, WORDS, None, False)
    _, [moved] = await desk.caseworker_command(ROSA, "/transfer", "Lu")
    assert moved["message"] == "desk_transferred_out"
    assert "desk_transferred_in" in await waiting_with_the_words(desk)  # the history, for Lu

    await desk.erase(SURVIVOR)
    assert await waiting_with_the_words(desk) == []
    told = [item for item in await desk.pending(1000) if item.message["message"] == "desk_erased"]
    assert [item.chat_id for item in told] == [LU]  # and Lu learns the case was erased


def test_a_survivors_words_cannot_be_queued_without_their_case(clean_desk):
    with Session(clean_desk) as session, pytest.raises(ValueError, match="without their case"):
        cases.send(session, LU, "a-chat-hash", "en",
                   {"message": "desk_relay", "case": 1, "text": WORDS})


DELIVERED = ("Messages already delivered to a caseworker stay in their Telegram chat: /forget "
             "cannot erase them from there.")


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_privacy_says_what_a_caseworker_received_cannot_be_erased(language):
    said = translations(language).gettext(DELIVERED)
    assert language == "en" or said != DELIVERED  # translated
    assert said in render({"message": "privacy", "days": 30}, language).text
