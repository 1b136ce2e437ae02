"""The fake Bot API accepts what Telegram accepts and rejects what Telegram rejects.

Journeys use a tiny real python-telegram-bot Application polling the fake over HTTP, as the e2e
tests will; rule checks call a bare ``telegram.Bot`` pointed at the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_bot_api import FakeBotAPI, FakeUser, inline_buttons, reply_buttons

pytestmark = pytest.mark.asyncio

MENU = InlineKeyboardMarkup([[InlineKeyboardButton("Shelter", callback_data="need:shelter")]])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(
        "Hello <b>friend</b>", parse_mode=ParseMode.HTML, reply_markup=MENU
    )


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer("Noted")
    await query.edit_message_text(f"You chose {query.data}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest_asyncio.fixture
async def app(fake: FakeBotAPI) -> AsyncIterator[Application]:
    application = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(choose))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=1)
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest_asyncio.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


async def started_user(fake: FakeBotAPI) -> FakeUser:
    """A user who has written to the bot, so the bot may write to them."""
    user = fake.new_user()
    await fake.send_text(user, "hi")
    return user


def bot_texts(fake: FakeBotAPI, user: FakeUser) -> list[str]:
    return [m["text"] for m in fake.visible_messages(user) if m["from"]["is_bot"]]


async def test_reply_arrives_and_startup_is_accepted(fake: FakeBotAPI, app: Application) -> None:
    user = fake.new_user("Ana", "es")
    await fake.send_text(user, "/start")
    [reply] = await fake.wait_for_bot_messages(user, 1, timeout=5)
    assert reply["text"] == "Hello friend"
    assert reply["entities"] == [{"type": "bold", "offset": 6, "length": 6}]
    assert inline_buttons(reply) == [("Shelter", "need:shelter")]
    assert [m.get("text") for m in fake.visible_messages(user)] == ["/start", "Hello friend"]
    assert {"getMe", "deleteWebhook", "getUpdates", "sendMessage"} <= {c.method for c in fake.calls}
    assert fake.rejected == []


async def test_callback_press_round_trip(fake: FakeBotAPI, app: Application) -> None:
    user = fake.new_user()
    await fake.send_text(user, "/start")
    [menu] = await fake.wait_for_bot_messages(user, 1, timeout=5)
    await fake.press_button(user, menu["message_id"], "need:shelter")

    def edited() -> bool:
        return fake.visible_messages(user)[-1].get("text") == "You chose need:shelter"

    assert await fake.wait_until(edited, timeout=5), fake.transcript(user)
    answers = [c for c in fake.calls if c.method == "answerCallbackQuery"]
    assert [(c.ok, c.params["text"]) for c in answers] == [(True, "Noted")]
    # Editing the text without reply_markup removes the keyboard, as on Telegram.
    assert inline_buttons(fake.visible_messages(user)[-1]) == []
    with pytest.raises(AssertionError, match="no button"):
        await fake.press_button(user, menu["message_id"], "need:shelter")
    assert fake.rejected == []


async def test_reply_keyboard_and_removal(fake: FakeBotAPI, app: Application) -> None:
    user = await started_user(fake)
    await fake.wait_for_bot_messages(user, 1, timeout=5)  # the echo of "hi"
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share location", request_location=True)], ["Help"]],
        resize_keyboard=True,
    )
    sent = await app.bot.send_message(user.id, "Where are you?", reply_markup=keyboard)
    assert sent.reply_markup is None  # the API only returns inline keyboards
    [shown] = await fake.wait_for_bot_messages(user, 1, timeout=5)
    assert reply_buttons(shown) == [
        {"text": "Share location", "request_location": True},
        {"text": "Help"},
    ]
    await fake.press_reply_button(user, "Help")
    [reply] = await fake.wait_for_bot_messages(user, 1, timeout=5)
    assert reply["text"] == "echo: Help"
    await app.bot.send_message(user.id, "Bye", reply_markup=ReplyKeyboardRemove())
    assert fake.reply_keyboard(user) is None
    with pytest.raises(AssertionError, match="no reply button"):
        await fake.press_reply_button(user, "Help")
    await fake.share_location(user, 38.72, -9.14)
    assert fake.visible_messages(user)[-1]["location"] == {"latitude": 38.72, "longitude": -9.14}


async def test_text_length_counts_utf16_units(fake: FakeBotAPI, bot: Bot) -> None:
    user = await started_user(fake)
    await bot.send_message(user.id, "x" * 4096)
    await bot.send_message(user.id, "😀" * 2048)
    for too_long in ("x" * 4097, "😀" * 2049, "<b>" + "x" * 4097 + "</b>"):
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(user.id, too_long, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(user.id, "<b> </b>", parse_mode=ParseMode.HTML)
    assert [c.error for c in fake.rejected] == ["Bad Request: message is too long"] * 3 + [
        "Bad Request: message text is empty"
    ]


@pytest.mark.parametrize(
    "html",
    ["<b>bold", "line<br>break", "a < b", "<b><i>x</b></i>", "</b>", "&nbsp;", "<span>x</span>"],
)
async def test_bad_html_is_rejected(fake: FakeBotAPI, bot: Bot, html: str) -> None:
    user = await started_user(fake)
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(user.id, html, parse_mode=ParseMode.HTML)
    assert bot_texts(fake, user) == []


async def test_good_html_is_parsed(fake: FakeBotAPI, bot: Bot) -> None:
    user = await started_user(fake)
    html = "<b>a</b> &amp; <a href='https://x.org'>link</a> &#128512; Tom & Jerry > 1"
    message = await bot.send_message(user.id, html, parse_mode=ParseMode.HTML)
    assert message.text == "a & link 😀 Tom & Jerry > 1"
    assert message.entities[1].url == "https://x.org"
    with pytest.raises(BadRequest, match="(?i)does not parse markdownv2"):
        await bot.send_message(user.id, "*a*", parse_mode=ParseMode.MARKDOWN_V2)


async def test_inline_keyboards_are_validated(fake: FakeBotAPI, bot: Bot) -> None:
    user = await started_user(fake)

    def inline(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("B", callback_data=data)]])

    await bot.send_message(user.id, "ok", reply_markup=inline("é" * 32))  # 64 bytes
    for data in ("é" * 33, "x" * 65):  # 33 characters but 66 bytes; 65 bytes
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(user.id, "no", reply_markup=inline(data))
    with pytest.raises(BadRequest, match="Text buttons are unallowed"):
        await bot.send_message(
            user.id, "no", reply_markup={"inline_keyboard": [[{"text": "only text"}]]}
        )
    assert bot_texts(fake, user) == ["ok"]
    assert len(fake.rejected) == 3


async def test_unknown_chat_query_method_and_token(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hello?")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(fake.new_user().id, "hello?")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("42")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendFax", api_kwargs={"chat_id": 1})
    stranger = Bot("654321:WRONG", base_url=fake.base_url)
    with pytest.raises(InvalidToken):
        await stranger.initialize()
    await stranger.shutdown()
    assert [c.error for c in fake.rejected][-1] == "Unauthorized"


async def test_edit_and_delete_rules(fake: FakeBotAPI, bot: Bot) -> None:
    user = await started_user(fake)
    first = await bot.send_message(user.id, "first")
    await bot.delete_message(user.id, first.message_id)
    assert bot_texts(fake, user) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(user.id, first.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("new", chat_id=user.id, message_id=first.message_id)
    second = await bot.send_message(user.id, "second", reply_markup=MENU)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(user.id, second.message_id, reply_markup=MENU)
    fake.advance_clock(48 * 3600)
    with pytest.raises(BadRequest, match="can't be deleted"):
        await bot.delete_message(user.id, second.message_id)
    assert bot_texts(fake, user) == ["second"]


async def test_injected_error_and_wait_timeout(fake: FakeBotAPI, bot: Bot) -> None:
    user = await started_user(fake)
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(user.id, "hi")
    with pytest.raises(AssertionError, match="Visible transcript"):
        await fake.wait_for_bot_messages(user, 1, timeout=0.1)


async def test_other_methods_a_bot_uses(fake: FakeBotAPI, bot: Bot) -> None:
    user = await started_user(fake)
    await bot.set_my_commands([("start", "Begin"), ("exit", "Quick exit")], language_code="es")
    assert [c.command for c in await bot.get_my_commands(language_code="es")] == ["start", "exit"]
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Quick-Exit", "no")])
    await bot.send_chat_action(user.id, "typing")
    await bot.send_location(user.id, 38.72, -9.14)
    ids = [(await bot.send_message(user.id, text)).message_id for text in ("a", "b")]
    await bot.delete_messages(user.id, [*ids, 999])
    assert [m.get("location") for m in fake.visible_messages(user)][1:] == [
        {"latitude": 38.72, "longitude": -9.14}
    ]
    assert (await bot.get_webhook_info()).url == ""
    with pytest.raises(BadRequest, match="Bad webhook"):
        await bot.set_webhook("http://127.0.0.1/hook")
