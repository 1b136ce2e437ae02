"""The fake Bot API accepts what Telegram accepts and rejects what Telegram rejects.

Journeys use a tiny real python-telegram-bot Application polling the fake over HTTP, as the e2e
tests will, or listening for its webhooks; rule checks call a bare ``telegram.Bot`` pointed at
the fake; delivery order and concurrency are watched by a slow webhook receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from aiohttp import web
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
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
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


def tiny_bot(fake: FakeBotAPI) -> Application:
    application = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(choose))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


@pytest_asyncio.fixture
async def app(fake: FakeBotAPI) -> AsyncIterator[Application]:
    application = tiny_bot(fake)
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


# --- webhooks ------------------------------------------------------------------------------
PUBLIC = "https://passage.example.org"
HOOK = f"{PUBLIC}/hook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def webhook_app(fake: FakeBotAPI, port: int, secret: str) -> AsyncIterator[Application]:
    """The tiny bot as a webhook worker: PTB's own server on 127.0.0.1:port/hook."""
    application = tiny_bot(fake)
    await application.initialize()
    await application.start()
    await application.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", webhook_url=HOOK, secret_token=secret,
        max_connections=5)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


@dataclass
class Received:
    update: dict
    secret: str | None
    started: float
    ended: float = 0.0

    @property
    def text(self) -> str:
        return (self.update.get("message") or {}).get("text") or self.update.get(
            "callback_query", {}).get("data", "")


@dataclass
class Receiver:
    """A webhook endpoint that takes ``delay`` seconds to answer, and remembers what came."""

    delay: float = 0.0
    fail_first: int = 0  # answer 500 to this many requests first
    got: list[Received] = field(default_factory=list)  # accepted (200) requests, by arrival
    active: int = 0
    peak: int = 0  # most requests handled at once

    async def handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
            if self.fail_first > 0:
                self.fail_first -= 1
                return web.Response(status=500)
            record = Received(json.loads(await request.read()),
                              request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                              started, time.monotonic())
            self.got.append(record)
            return web.Response(text="")
        finally:
            self.active -= 1

    def texts(self) -> list[str]:
        return [r.text for r in self.got]


@contextlib.asynccontextmanager
async def receiving(receiver: Receiver, port: int = 0) -> AsyncIterator[str]:
    """Serve ``receiver`` at http://127.0.0.1:port; yields that base URL."""
    app = web.Application()
    app.router.add_post("/{path:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def overlapped(a: Received, b: Received) -> bool:
    return a.started < b.ended and b.started < a.ended


async def test_webhook_worker_gets_updates_through_the_load_balancer(fake: FakeBotAPI) -> None:
    port = free_port()
    fake.route_webhooks(PUBLIC, f"http://127.0.0.1:{port}")
    async with webhook_app(fake, port, secret="s3cret-Token_1") as application:
        user = fake.new_user()
        await fake.send_text(user, "/start")
        [menu] = await fake.wait_for_bot_messages(user, 1, timeout=5)
        assert menu["text"] == "Hello friend"
        # A second worker starting with the same settings changes nothing.
        await application.bot.set_webhook(HOOK, secret_token="s3cret-Token_1", max_connections=5)
        await fake.press_button(user, menu["message_id"], "need:shelter")
        assert await fake.wait_until(
            lambda: fake.visible_messages(user)[-1].get("text") == "You chose need:shelter", 5)
        info = await application.bot.get_webhook_info()
        assert (info.url, info.max_connections, info.pending_update_count) == (HOOK, 5, 0)
        assert info.last_error_date is None
        with pytest.raises(Conflict, match="webhook is active"):
            await application.bot.get_updates()
    assert [(d.url, d.secret_token, d.status) for d in fake.deliveries] == [
        (f"http://127.0.0.1:{port}/hook", "s3cret-Token_1", 200)] * 2
    assert fake.rejected[-1].method == "getUpdates"


async def test_wrong_secret_is_refused_and_retried_until_set_right(fake: FakeBotAPI) -> None:
    port = free_port()
    fake.route_webhooks(PUBLIC, f"http://127.0.0.1:{port}")
    async with webhook_app(fake, port, secret="right") as application:
        await application.bot.set_webhook(HOOK, secret_token="wrong")
        user = fake.new_user()
        await fake.send_text(user, "hello")
        assert await fake.wait_until(lambda: len(fake.deliveries) >= 2, timeout=5)
        assert {d.status for d in fake.deliveries} == {403}
        info = await application.bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message.startswith("Wrong response from the webhook: 403")
        assert abs(info.last_error_date.timestamp() - fake.now()) <= 2
        assert bot_texts(fake, user) == []
        await application.bot.set_webhook(HOOK, secret_token="right")
        [reply] = await fake.wait_for_bot_messages(user, 1, timeout=5)
        assert reply["text"] == "echo: hello"
        assert (await application.bot.get_webhook_info()).pending_update_count == 0
    assert fake.deliveries[-1].ok


async def test_refused_deliveries_wait_for_the_bot_and_keep_order(fake: FakeBotAPI,
                                                                  bot: Bot) -> None:
    port = free_port()  # nothing listens there yet: the bot is down
    fake.route_webhooks(PUBLIC, f"http://127.0.0.1:{port}")
    await bot.set_webhook(HOOK)
    user = fake.new_user()
    for text in ("one", "two", "three"):
        await fake.send_text(user, text)
    assert await fake.wait_until(lambda: len(fake.deliveries) >= 2, timeout=5)
    info = await bot.get_webhook_info()
    assert (info.pending_update_count, info.last_error_message) == (3, "Connection refused")
    # Only the chat's first update was tried: the others wait behind it, as on Telegram.
    assert {d.update_id for d in fake.deliveries} == {fake.deliveries[0].update_id}
    receiver = Receiver(fail_first=1)
    async with receiving(receiver, port):
        assert await fake.wait_until(lambda: len(receiver.got) == 3, timeout=5)
    assert receiver.texts() == ["one", "two", "three"]
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_delete_webhook_stops_delivery_and_drop_pending_drops(fake: FakeBotAPI,
                                                                    bot: Bot) -> None:
    receiver = Receiver()
    async with receiving(receiver) as base:
        fake.route_webhooks(PUBLIC, base)
        await bot.set_webhook(HOOK)
        user = fake.new_user()
        await fake.send_text(user, "one")
        assert await fake.wait_until(lambda: receiver.got, timeout=5)
        await bot.delete_webhook()
        await fake.send_text(user, "two")
        await asyncio.sleep(0.3)
        assert receiver.texts() == ["one"]
        [update] = await bot.get_updates()
        assert update.message.text == "two"
        await bot.set_webhook("https://nowhere.example.net/hook")  # unrouted: unreachable
        await fake.send_text(user, "three")
        assert await fake.wait_until(lambda: len(fake.deliveries) >= 3, timeout=5)
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 2
        assert info.last_error_message == "Failed to resolve host: Name or service not known"
        await bot.delete_webhook(drop_pending_updates=True)
        assert (await bot.get_webhook_info()).pending_update_count == 0
        assert await bot.get_updates() == ()
        assert receiver.texts() == ["one"]


async def test_set_webhook_is_checked_like_telegram(fake: FakeBotAPI, bot: Bot) -> None:
    for kwargs, error in [
        ({"url": "http://passage.example.org/hook"}, "An HTTPS URL must be provided"),
        ({"url": "https://passage.example.org:8080/hook"}, "only on ports 80, 88, 443 or 8443"),
        ({"url": HOOK, "secret_token": "abc+def="}, "Secret token contains unallowed characters"),
        ({"url": HOOK, "secret_token": "x" * 257}, "Secret token is too long"),
        ({"url": HOOK, "ip_address": "1.2.3"}, "Invalid IP address specified"),
    ]:
        with pytest.raises(BadRequest, match=f"(?i){error}"):
            await bot.set_webhook(**kwargs)
    assert (await bot.get_webhook_info()).url == ""
    await bot.set_webhook("https://passage.example.org:8443/hook", secret_token="x" * 256)
    assert (await bot.get_webhook_info()).max_connections == 40
    for asked, kept in ((0, 1), (1000, 100), (7, 7)):
        await bot.set_webhook(HOOK, max_connections=asked)
        assert (await bot.get_webhook_info()).max_connections == kept


async def test_webhook_honours_allowed_updates(fake: FakeBotAPI, bot: Bot) -> None:
    receiver = Receiver()
    async with receiving(receiver) as base:
        fake.route_webhooks(PUBLIC, base)
        await bot.set_webhook(HOOK, allowed_updates=["callback_query"])
        assert (await bot.get_webhook_info()).allowed_updates == ("callback_query",)
        user = fake.new_user()
        await fake.send_text(user, "not wanted")
        await fake.press_forged_button(user, "tap")
        assert await fake.wait_until(lambda: receiver.got, timeout=5)
        await asyncio.sleep(0.2)
        assert [list(r.update)[1] for r in receiver.got] == ["callback_query"]
        assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_updates_of_different_queues_are_in_flight_together(fake: FakeBotAPI,
                                                                  bot: Bot) -> None:
    receiver = Receiver(delay=0.5)
    async with receiving(receiver) as base:
        fake.route_webhooks(PUBLIC, base)
        await bot.set_webhook(HOOK, max_connections=10, secret_token="t")
        ana, ben, eva = fake.new_user("Ana"), fake.new_user("Ben"), fake.new_user("Eva")
        await fake.send_text(ana, "a1")
        await fake.send_text(ana, "a2")
        await fake.press_forged_button(ana, "a-tap")
        await fake.send_text(ben, "b1")
        await fake.send_text(eva, "e1")
        assert await fake.wait_until(lambda: len(receiver.got) == 5, timeout=5)
    by_text = {r.text: r for r in receiver.got}
    assert receiver.peak == 4  # a1, a-tap, b1, e1 together; a2 waits for a1
    assert overlapped(by_text["a1"], by_text["a-tap"])
    assert by_text["a2"].started >= by_text["a1"].ended
    assert {r.secret for r in receiver.got} == {"t"}


async def test_one_connection_means_one_update_at_a_time_in_order(fake: FakeBotAPI,
                                                                  bot: Bot) -> None:
    receiver = Receiver(delay=0.1)
    async with receiving(receiver) as base:
        fake.route_webhooks(PUBLIC, base)
        await bot.set_webhook(HOOK, max_connections=1)
        for name in ("Ana", "Ben", "Eva", "Ivo"):
            await fake.send_text(fake.new_user(name), name)
        assert await fake.wait_until(lambda: len(receiver.got) == 4, timeout=5)
    assert receiver.peak == 1
    assert receiver.texts() == ["Ana", "Ben", "Eva", "Ivo"]
    assert fake.peak_in_flight == 1


async def test_any_ordering_lets_one_chats_messages_overtake(fake: FakeBotAPI, bot: Bot) -> None:
    fake.webhook_ordering = "any"
    receiver = Receiver(delay=0.5)
    async with receiving(receiver) as base:
        fake.route_webhooks(PUBLIC, base)
        await bot.set_webhook(HOOK)
        user = fake.new_user()
        for text in ("one", "two", "three"):
            await fake.send_text(user, text)
        assert await fake.wait_until(lambda: len(receiver.got) == 3, timeout=5)
    assert receiver.peak == 3
    assert sorted(receiver.texts()) == ["one", "three", "two"]


async def test_stop_does_not_wait_for_a_slow_webhook() -> None:
    receiver = Receiver(delay=5)
    async with receiving(receiver) as base:
        fake = await FakeBotAPI().start()
        fake.route_webhooks(PUBLIC, base)
        async with Bot(fake.token, base_url=fake.base_url) as client:
            await client.set_webhook(HOOK)
        await fake.send_text(fake.new_user(), "hi")
        assert await fake.wait_until(lambda: fake.in_flight, timeout=5)
        began = time.monotonic()
        await fake.stop()
        assert time.monotonic() - began < 2
        assert fake.in_flight == [] and fake.deliveries[0].status is None
