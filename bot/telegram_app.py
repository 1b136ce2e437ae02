"""The Telegram edge: thin handlers that turn updates into Passage calls and Replies into
Bot API calls. No decisions are made here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import timedelta

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import FloodLimit, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.conversation import Passage, Person
from bot.rate_limit import rate_limit_for, urgent_rate_limit_for
from bot.render import Reply, render
from bot.shared_work import chore_for
from bot.storage import utcnow
from bot.telegram_gate import install_gate, person_of, telegram_rate_limiter
from bot.telegram_request import AiohttpRequest
from bot.telegram_updates import UpdatesRequest, guard_webhook_server
from bot.update_order import LinedUpUpdates, PerChatOrder, RedisChatOrder, seen_key_for

logger = logging.getLogger(__name__)

PRIVATE_MESSAGE = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
ROUND_SECONDS = 5
PURGE_EVERY = timedelta(days=1)


def reply_markup(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
             for row in reply.buttons]
        )
    if reply.location_button:
        rows = [[KeyboardButton(reply.location_button, request_location=True)]]
        if reply.exit_button:
            rows.append([KeyboardButton(reply.exit_button)])
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)
    if reply.wipe_chat:
        return ReplyKeyboardRemove()
    return None


def _passage(context: ContextTypes.DEFAULT_TYPE) -> Passage:
    return context.application.bot_data["passage"]


async def send_replies(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       replies: list[Reply]) -> None:
    """Send the replies; then remember, in one write, the ids quick exit must be able to
    delete (the person's message and the replies), and send the outbox if this update added to
    it. The ids are remembered even when sending fails half-way."""
    passage, person, chat_id = _passage(context), person_of(update), update.effective_chat.id
    incoming = update.message.message_id if update.message else None
    kept = [] if incoming is None else [incoming]
    try:
        for reply in replies:
            if reply.wipe_chat:
                await _delete(context.bot, chat_id,
                              [*await passage.messages_to_delete(person), *kept])
                kept = []
            if reply.delete_incoming and incoming is not None:
                await _delete(context.bot, chat_id, [incoming])
                kept = [m for m in kept if m != incoming]
            sent = await context.bot.send_message(
                chat_id,
                reply.text,
                parse_mode=ParseMode.HTML,
                reply_markup=reply_markup(reply),
                disable_web_page_preview=True,
            )
            if not reply.wipe_chat:  # the one line left after a wipe is not tied to them again
                kept.append(sent.message_id)
    finally:
        await passage.remember_messages(person, kept)
    if passage.desk is not None and passage.desk.take_outbox_news():
        await deliver_outbox(context.application)


async def _delete(bot: Bot, chat_id: int, message_ids: list[int]) -> None:
    """Delete what Telegram still allows (private chat, < 48 h), 100 at a time; a message that
    is already gone or too old is simply skipped."""
    for start in range(0, len(message_ids), 100):
        try:
            await bot.delete_messages(chat_id, message_ids[start:start + 100])
        except BadRequest as error:
            logger.warning("some messages could not be deleted: %s", type(error).__name__)


async def deliver_outbox(application: Application) -> None:
    """Send what the desk wrote for other chats, oldest first. A message Telegram refuses for
    good (the person blocked the bot, the message to edit is gone) is dropped; on a network
    error the rest waits for the next round."""
    if application.bot_data["passage"].desk is not None:
        await application.bot_data["outbox"].run(lambda: _send_outbox(application))


async def _send_outbox(application: Application) -> None:
    passage: Passage = application.bot_data["passage"]
    for item in await passage.desk.pending():
        # A survivor's quick exit or /forget (on any worker) withdraws what was queued for
        # their chat: what it withdrew first is not sent, and a message sent while it withdrew
        # is deleted here or, its id kept first, wiped by the exit: nothing stays after it.
        if not await passage.desk.is_queued(item.id):
            continue
        reply = render(item.message, item.language)
        try:
            if item.edit_message_id:
                await application.bot.edit_message_text(
                    reply.text, chat_id=item.chat_id, message_id=item.edit_message_id,
                    parse_mode=ParseMode.HTML, reply_markup=reply_markup(reply))
                message_id: int | None = item.edit_message_id
            else:
                sent = await application.bot.send_message(
                    item.chat_id, reply.text, parse_mode=ParseMode.HTML,
                    reply_markup=reply_markup(reply), disable_web_page_preview=True)
                message_id = sent.message_id
                await passage.remember_in_chat(item.chat_hash, [message_id])
                if not await passage.desk.is_queued(item.id):
                    await _delete(application.bot, item.chat_id, [message_id])
                    continue
        except (BadRequest, Forbidden) as error:
            logger.warning("a desk message could not be delivered: %s", type(error).__name__)
            message_id = None
        except TelegramError as error:
            logger.warning("desk delivery paused: %s", type(error).__name__)
            return
        await passage.desk.delivered(item.id, message_id)


async def _rounds(application: Application) -> None:
    """Work nobody asks for: the desk's timeouts and outbox every few seconds, retention at
    start and then once a day; with several workers, one of them at a time."""
    passage: Passage = application.bot_data["passage"]
    last_purge = None

    async def chores() -> None:
        nonlocal last_purge
        now = utcnow()
        if last_purge is None or now - last_purge >= PURGE_EVERY:
            await passage.retention.purge(now)
            last_purge = now
        if passage.desk is not None:
            await passage.desk.sweep(now)

    while True:
        try:
            await application.bot_data["sweeper"].run(chores)
            await deliver_outbox(application)
        except Exception as error:  # noqa: BLE001 - keep the rounds going; type only
            logger.error("a background round failed: %s", type(error).__name__)
        await asyncio.sleep(ROUND_SECONDS)


async def start_desk(application: Application) -> None:
    application.bot_data["desk_rounds"] = asyncio.create_task(_rounds(application))


async def stop_desk(application: Application) -> None:
    task = application.bot_data.pop("desk_rounds", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE,
                  work: Awaitable[list[Reply]]) -> None:
    """Send what `work` answers to the person's message; the message is remembered for quick
    exit even when answering it fails. The replies go out while the conversation is written;
    the update is done (and the chat's next one may start) once both are."""
    passage, person = _passage(context), person_of(update)
    async with passage.answering_first(person):
        try:
            replies = await work
        except BaseException:
            await passage.remember_messages(person, [update.message.message_id])
            raise
        await send_replies(update, context, replies)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, _passage(context).on_text(
        person_of(update), update.message.text, update.message.message_id))


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    location = update.message.location
    await _answer(update, context, _passage(context).on_location(
        person_of(update), location.latitude, location.longitude))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    if query.message is None or update.effective_chat.type != "private":
        return
    passage, person = _passage(context), person_of(update)
    async with passage.answering_first(person):
        await send_replies(update, context, await passage.on_button(person, query.data or ""))


async def on_other_content(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, _passage(context).on_unsupported(person_of(update)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # The exception type only: a message or traceback could carry what someone wrote.
    logger.error("handling an update failed: %s", type(context.error).__name__)


def build_application(passage: Passage, token: str, base_url: str | None = None,
                      redis_url: str | None = None,
                      send_rate: float = FloodLimit.MESSAGES_PER_SECOND) -> Application:
    """redis_url: several workers (PASSAGE_REDIS_URL) share, through Redis, each chat's order
    of updates, the per-person rate limit and the chores one of them does for all.
    send_rate: this process's share of Telegram's ~30 messages a second (0: no limit)."""
    shared = _redis(redis_url)
    bot_prefix = f"passage:{token.split(':')[0]}:"
    order = (PerChatOrder() if shared is None else
             RedisChatOrder(shared, lambda chat: passage.pseudonym(Person(chat)),
                            seen_key=seen_key_for(token), prefix=f"{bot_prefix}order:"))
    builder = (ApplicationBuilder().token(token)
               .rate_limiter(telegram_rate_limiter(send_rate))
               .concurrent_updates(order)
               .request(AiohttpRequest())
               .get_updates_request(UpdatesRequest(connection_pool_size=1))
               .post_init(start_desk).post_stop(stop_desk))
    if isinstance(order, RedisChatOrder):
        builder = builder.update_queue(LinedUpUpdates(order))
    if base_url:
        builder = builder.base_url(base_url)
    application = builder.build()
    guard_webhook_server()
    application.bot_data["outbox"] = chore_for(shared, f"{bot_prefix}outbox")
    application.bot_data["sweeper"] = chore_for(shared, f"{bot_prefix}sweep")
    application.bot_data["passage"] = passage
    # groups, odd updates and the per-person rate limit first
    install_gate(application, rate_limit_for(redis_url), urgent_rate_limit_for(redis_url))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.LOCATION, on_location))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE, on_other_content))
    application.add_error_handler(on_error)
    return application


def _redis(url: str | None) -> object | None:
    if not url:
        return None
    import redis.asyncio

    return redis.asyncio.Redis.from_url(url, socket_timeout=5)


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
