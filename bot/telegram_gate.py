"""What every Telegram update passes before any handler: the kind of chat and the rate limit.

Passage is for private chats. In a group or supergroup it leaves at the first update it sees
there, without a word in the group; channel posts, edited messages and any other update kind
are ignored. In a private chat each person's messages and button taps go through a token
bucket (``bot.rate_limit``); a refused one is answered once per burst with a polite line.
Anything that looks like danger, and quick exit, take from a bucket of their own instead, so a
flood of ordinary messages never holds them back, and a flood of them is bounded too.
"""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.constants import FloodLimit, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    ContextTypes,
    TypeHandler,
)

from bot.conversation import MAX_TEXT_CHARS, Person
from bot.engine.safety_net import looks_like_emergency
from bot.input_text import incoming_text
from bot.privacy import is_exit_request
from bot.rate_limit import RateLimit, Verdict, rate_limit_for, urgent_rate_limit_for
from bot.render import render

logger = logging.getLogger(__name__)

GATE_GROUP = -100  # runs before the handlers of group 0
DANGER_COMMANDS = ("/danger", "/emergency")  # typed or on a button: never held back


TELEGRAM_RETRIES = 3  # a 429 from Telegram is waited out (retry_after) this many times


def telegram_rate_limiter(overall_per_second: float = FloodLimit.MESSAGES_PER_SECOND
                          ) -> AIORateLimiter:
    """PTB's limiter for Telegram's own limits: ~30 messages a second in all, 20 a minute per
    group, and on a 429 it waits ``retry_after`` and tries again (PTB's default is to give up)."""
    return AIORateLimiter(overall_max_rate=overall_per_second, max_retries=TELEGRAM_RETRIES)


def person_of(update: Update) -> Person:
    """Who sent an update, as Passage knows people (every handler and the gate)."""
    user = update.effective_user
    return Person(update.effective_chat.id, user.language_code if user else None,
                  user.id if user else None)


def install_gate(application: Application, rate_limit: RateLimit | None = None,
                 urgent_rate_limit: RateLimit | None = None) -> None:
    """rate_limit: every person's ordinary bucket; urgent_rate_limit: their danger-and-exit one
    (both in this process's memory unless given)."""
    application.bot_data["rate_limit"] = rate_limit or rate_limit_for(None)
    application.bot_data["urgent_rate_limit"] = urgent_rate_limit or urgent_rate_limit_for(None)
    application.add_handler(TypeHandler(Update, gate), group=GATE_GROUP)


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Return to let the update through; raise ApplicationHandlerStop to end it here. A button
    tap ended here is still answered, so the person's app stops waiting on it."""
    try:
        await _check(update, context)
    except ApplicationHandlerStop:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except TelegramError as error:
                logger.warning("a held-back tap was not answered: %s", type(error).__name__)
        raise


async def _check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if (update.message is None and update.callback_query is None) or chat is None:
        raise ApplicationHandlerStop  # edited messages, channel posts, inline-only callbacks
    if chat.type in (Chat.GROUP, Chat.SUPERGROUP):
        await _leave(context, chat.id)
        raise ApplicationHandlerStop
    if chat.type != Chat.PRIVATE:
        raise ApplicationHandlerStop
    passage = context.application.bot_data["passage"]
    person = person_of(update)
    bucket = ("urgent_rate_limit" if _looks_like_danger(update) or _wants_out(update)
              else "rate_limit")
    verdict = await context.application.bot_data[bucket].check(passage.pseudonym(person))
    if verdict is Verdict.ALLOW:
        return
    if update.message:  # held back, but quick exit must still be able to delete it
        await passage.remember_messages(person, [update.message.message_id])
    if verdict is Verdict.SLOW_DOWN:
        reply = render({"message": "slow_down"}, await passage.language(person))
        try:
            sent = await context.bot.send_message(chat.id, reply.text, parse_mode=ParseMode.HTML)
            await passage.remember_messages(person, [sent.message_id])
        except TelegramError as error:
            logger.warning("the slow-down reply was not sent: %s", type(error).__name__)
    raise ApplicationHandlerStop


def _wants_out(update: Update) -> bool:
    if update.callback_query is not None:
        return update.callback_query.data == "exit"
    return is_exit_request(incoming_text(update.message.text or ""))


def _looks_like_danger(update: Update) -> bool:
    if update.callback_query is not None:
        return update.callback_query.data in DANGER_COMMANDS
    text = incoming_text(update.message.text or "")
    if text.startswith("/"):
        return text.split()[0].split("@")[0].lower() in DANGER_COMMANDS
    return bool(text) and looks_like_emergency(text[:MAX_TEXT_CHARS])


async def _leave(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    try:
        await context.bot.leave_chat(chat_id)
    except TelegramError as error:  # already gone, or never really in it
        logger.warning("leaving a group failed: %s", type(error).__name__)
