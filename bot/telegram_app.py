"""The Telegram edge: thin handlers that turn updates into Passage calls and Replies into
Bot API calls. No decisions are made here."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
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
from bot.render import Reply, render
from bot.storage import utcnow
from bot.telegram_gate import install_gate, telegram_rate_limiter

logger = logging.getLogger(__name__)

PRIVATE_MESSAGE = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
DESK_ROUND_SECONDS = 5


def reply_markup(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
             for row in reply.buttons]
        )
    if reply.location_button:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.location_button, request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    return None


def _passage(context: ContextTypes.DEFAULT_TYPE) -> Passage:
    return context.application.bot_data["passage"]


def _person(update: Update) -> Person:
    user = update.effective_user
    return Person(update.effective_chat.id, user.language_code if user else None,
                  user.id if user else None)


async def send_replies(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       replies: list[Reply]) -> None:
    for reply in replies:
        await context.bot.send_message(
            update.effective_chat.id,
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=reply_markup(reply),
            disable_web_page_preview=True,
        )
    await deliver_outbox(context.application)


async def deliver_outbox(application: Application) -> None:
    """Send what the desk wrote for other chats, oldest first. A message Telegram refuses for
    good (the person blocked the bot, the message to edit is gone) is dropped; on a network
    error the rest waits for the next round."""
    desk = application.bot_data["passage"].desk
    if desk is None:
        return
    async with application.bot_data.setdefault("outbox_lock", asyncio.Lock()):
        for item in await desk.pending():
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
            except (BadRequest, Forbidden) as error:
                logger.warning("a desk message could not be delivered: %s",
                               type(error).__name__)
                message_id = None
            except TelegramError as error:
                logger.warning("desk delivery paused: %s", type(error).__name__)
                return
            await desk.delivered(item.id, message_id)


async def _desk_rounds(application: Application) -> None:
    """The desk's own work (timeouts, reminders, retention) and the outbox, every few seconds."""
    desk = application.bot_data["passage"].desk
    while True:
        try:
            await desk.sweep(utcnow())
            await deliver_outbox(application)
        except Exception as error:  # noqa: BLE001 - keep the rounds going; type only
            logger.error("a desk round failed: %s", type(error).__name__)
        await asyncio.sleep(DESK_ROUND_SECONDS)


async def start_desk(application: Application) -> None:
    if application.bot_data["passage"].desk is not None:
        application.bot_data["desk_rounds"] = asyncio.create_task(_desk_rounds(application))


async def stop_desk(application: Application) -> None:
    task = application.bot_data.pop("desk_rounds", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    replies = await _passage(context).on_text(_person(update), update.message.text,
                                              update.message.message_id)
    await send_replies(update, context, replies)


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    location = update.message.location
    replies = await _passage(context).on_location(
        _person(update), location.latitude, location.longitude
    )
    await send_replies(update, context, replies)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    if query.message is None or update.effective_chat.type != "private":
        return
    replies = await _passage(context).on_button(_person(update), query.data or "")
    await send_replies(update, context, replies)


async def on_other_content(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_replies(update, context, await _passage(context).on_unsupported(_person(update)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # The exception type only: a message or traceback could carry what someone wrote.
    logger.error("handling an update failed: %s", type(context.error).__name__)


def build_application(passage: Passage, token: str, base_url: str | None = None) -> Application:
    builder = (ApplicationBuilder().token(token).rate_limiter(telegram_rate_limiter())
               .post_init(start_desk).post_stop(stop_desk))
    if base_url:
        builder = builder.base_url(base_url)
    application = builder.build()
    application.bot_data["passage"] = passage
    install_gate(application)  # groups, odd updates and the per-person rate limit first
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.LOCATION, on_location))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE, on_other_content))
    application.add_error_handler(on_error)
    return application


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
