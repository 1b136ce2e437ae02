"""Hostile and odd input over real HTTP: floods, Telegram's 429, groups, channels, edits,
forwards and invisible characters."""

import asyncio

from telegram import Update

from bot.rate_limit import BURST
from bot.telegram_app import build_application
from tests.e2e.expectations import shown


async def _drained(fake) -> None:
    """Wait until the bot took every queued update and went quiet."""
    assert await fake.wait_until(lambda: not fake._updates, timeout=30)
    calls = -1
    while calls != len(fake.calls):
        calls = len(fake.calls)
        await asyncio.sleep(0.5)


def _sent_to(fake, chat_id: int) -> list:
    return [c for c in fake.calls
            if c.method.lower() == "sendmessage" and int(c.params["chat_id"]) == chat_id]


async def test_a_flood_gets_a_burst_one_slow_down_and_danger_still_gets_through(
        fake_telegram, bot, passage, monkeypatch):
    engine_turns = []
    handle = passage._engine.handle_and_parse

    async def counted(*args, **kwargs):
        engine_turns.append(1)
        return await handle(*args, **kwargs)

    monkeypatch.setattr(passage._engine, "handle_and_parse", counted)
    user = fake_telegram.new_user(language_code="en")
    for n in range(100):
        await fake_telegram.send_text(user, f"thanks {n}")
    await _drained(fake_telegram)

    slow_down = shown("slow_down", "en")
    texts = [m["text"] for m in fake_telegram.visible_messages(user) if m["from"]["is_bot"]]
    assert texts.count(slow_down) == 1
    assert len(engine_turns) <= BURST + 3  # a token or two may come back while it works
    assert len(texts) <= len(engine_turns) * 2 + 1

    await fake_telegram.send_text(user, "I'm in danger now")
    replies = await fake_telegram.wait_for_bot_messages(user, count=len(texts) + 1)
    assert "112" in replies[-1]["text"] or "911" in replies[-1]["text"]
    assert fake_telegram.rejected == []


async def test_telegram_flood_control_is_waited_out(fake_telegram, bot):
    user = fake_telegram.new_user(language_code="en")
    fake_telegram.fail_next("sendMessage", 429, retry_after=1)
    await fake_telegram.send_text(user, "/start")
    [welcome] = await fake_telegram.wait_for_bot_messages(user, timeout=10)
    assert welcome["text"] == shown("welcome", "en")
    assert [c.error for c in fake_telegram.rejected] == ["Too Many Requests: retry after 1"]


async def test_in_a_group_it_leaves_without_a_word(fake_telegram, bot):
    user = fake_telegram.new_user(language_code="en")
    for supergroup in (False, True):
        group = fake_telegram.new_group(supergroup=supergroup)
        await fake_telegram.send_group_text(user, group, "/start@passage_test_bot")
        assert await fake_telegram.wait_until(
            lambda g=group: not fake_telegram.groups[g]["member"])
    await _drained(fake_telegram)
    assert not [c for c in fake_telegram.calls
                if str(c.params.get("chat_id", "")).startswith("-")
                and c.method.lower() != "leavechat"]
    assert fake_telegram.rejected == []


async def test_edits_and_channel_posts_get_nothing(fake_telegram, passage):
    """Telegram does not send them (ALLOWED_UPDATES); should one arrive, it is ignored."""
    application = build_application(passage, fake_telegram.token, fake_telegram.base_url)
    errors = []

    async def record(update, context):
        errors.append(context.error)

    application.add_error_handler(record)
    await application.initialize()
    user = fake_telegram.new_user(language_code="en")
    sent = await fake_telegram.send_text(user, "hello")
    await fake_telegram.edit_text(user, sent["message_id"], "I need a lawyer")
    await fake_telegram.post_in_channel("news")
    [first, edit, post] = fake_telegram.take_updates()
    for update in (edit, post):
        await application.process_update(Update.de_json(update, application.bot))
    await application.shutdown()
    assert errors == []
    assert [c.method for c in fake_telegram.calls] == ["getMe"]


async def test_polling_never_asks_for_edits_or_channel_posts(fake_telegram, bot):
    user = fake_telegram.new_user(language_code="en")
    sent = await fake_telegram.send_text(user, "/start")
    await fake_telegram.wait_for_bot_messages(user)
    await fake_telegram.edit_text(user, sent["message_id"], "I need a lawyer")
    await fake_telegram.post_in_channel("news")
    await asyncio.sleep(1.5)
    assert fake_telegram.visible_messages(user)[-1]["from"]["is_bot"]
    assert len(fake_telegram._updates) == 2  # still queued: never delivered
    assert fake_telegram.rejected == []


async def test_a_forwarded_message_is_read_like_a_typed_one(fake_telegram, bot):
    user = fake_telegram.new_user(language_code="en")
    await fake_telegram.forward_text(user, "I have nowhere to sleep tonight")
    [ask] = await fake_telegram.wait_for_bot_messages(user)
    assert ask["text"] == shown("ask_location", "en")
    assert fake_telegram.rejected == []


async def test_invisible_characters_do_not_hide_words(fake_telegram, bot):
    user = fake_telegram.new_user(language_code="en")
    await fake_telegram.send_text(user, "/he\u200blp\u202e")
    [reply] = await fake_telegram.wait_for_bot_messages(user)
    assert reply["text"] == shown("help", "en")
    await fake_telegram.send_text(user, "\u200b\u2066\ufeff")
    [reply] = await fake_telegram.wait_for_bot_messages(user)
    assert reply["text"] == shown("not_understood", "en")
    await fake_telegram.send_text(user, "ب" * 4096)
    await fake_telegram.wait_for_bot_messages(user)
    assert fake_telegram.rejected == []
