"""The first journey over real HTTP: python-telegram-bot <-> the strict fake Bot API."""

import pytest

from tests.e2e.expectations import (
    CHICAGO,
    LONDON,
    LOS_ANGELES,
    MADRID,
    MANILA,
    nearest_service_name,
    shown,
)
from tests.fake_bot_api import inline_buttons, reply_buttons

# One journey per language: someone with no place to sleep tonight, in their own words.
JOURNEYS = {
    "en": ("I have nowhere to sleep tonight", CHICAGO),
    "es": ("no tengo dónde dormir esta noche", MADRID),
    "fr": ("je n'ai nulle part où dormir ce soir", MADRID),
    "pt": ("não tenho onde dormir esta noite", LOS_ANGELES),
    "ru": ("мне негде спать сегодня ночью", LONDON),
    "uk": ("мені ніде спати сьогодні вночі", LONDON),
    "ar": ("ما عندي مكان أنام فيه الليلة", LONDON),
    "zh": ("我今晚没有地方睡觉", LOS_ANGELES),
    "vi": ("tối nay tôi không có chỗ ngủ", CHICAGO),
    "tl": ("wala akong matutulugan ngayong gabi", MANILA),
    "th": ("คืนนี้ฉันไม่มีที่นอน", LOS_ANGELES),
    "ro": ("nu am unde să dorm în seara asta", MADRID),
}


@pytest.mark.parametrize("language", sorted(JOURNEYS))
async def test_from_start_to_the_nearest_shelter(fake_telegram, bot, language):
    need_text, where = JOURNEYS[language]
    user = fake_telegram.new_user(language_code=language)

    await fake_telegram.send_text(user, "/start")
    [welcome] = await fake_telegram.wait_for_bot_messages(user)
    assert welcome["text"] == shown("welcome", language)
    assert language == "en" or welcome["text"] != shown("welcome", "en")
    menu = [data for _, data in inline_buttons(welcome)]
    assert menu == ["/emergency", "/find_service", "/talk_to_human", "/change_language", "exit"]

    await fake_telegram.send_text(user, need_text)
    [ask] = await fake_telegram.wait_for_bot_messages(user)
    assert ask["text"] == shown("ask_location", language)
    assert any(b.get("request_location") for b in reply_buttons(ask))

    await fake_telegram.share_location(user, *where)
    [results] = await fake_telegram.wait_for_bot_messages(user)
    assert nearest_service_name("shelter", *where) in results["text"]
    assert fake_telegram.rejected == []


async def test_menu_buttons_work_and_danger_comes_first(fake_telegram, bot):
    user = fake_telegram.new_user(language_code="en")
    await fake_telegram.send_text(user, "/start")
    [welcome] = await fake_telegram.wait_for_bot_messages(user)
    await fake_telegram.press_button(user, welcome["message_id"], "/emergency")
    [numbers] = await fake_telegram.wait_for_bot_messages(user)
    assert "112" in numbers["text"]
    answered = [c for c in fake_telegram.calls if c.method.lower() == "answercallbackquery"]
    assert answered and all(c.ok for c in answered)
    assert fake_telegram.rejected == []


async def test_a_photo_gets_a_polite_answer(fake_telegram, bot):
    user = fake_telegram.new_user(language_code="es")
    await fake_telegram.send_text(user, "/start")
    await fake_telegram.wait_for_bot_messages(user)
    await fake_telegram.send_content(
        user, photo=[{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}])
    [reply] = await fake_telegram.wait_for_bot_messages(user)
    assert "texto" in reply["text"]
    assert fake_telegram.rejected == []
