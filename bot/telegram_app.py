"""The Telegram edge: thin handlers that turn updates into Passage calls and Replies into
Bot API calls. No decisions are made here."""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.conversation import Passage, Person
from bot.render import Reply

logger = logging.getLogger(__name__)

PRIVATE_MESSAGE = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE


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
    return Person(update.effective_chat.id, user.language_code if user else None)


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


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    replies = await _passage(context).on_text(_person(update), update.message.text)
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
    builder = ApplicationBuilder().token(token).rate_limiter(AIORateLimiter())
    if base_url:
        builder = builder.base_url(base_url)
    application = builder.build()
    application.bot_data["passage"] = passage
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.LOCATION, on_location))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE, on_other_content))
    application.add_error_handler(on_error)
    return application


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
