"""A Reply's keyboard as the Bot API JSON python-telegram-bot would send."""

from bot.render import Reply
from bot.telegram_app import reply_markup


def markup_of(reply: Reply) -> dict | None:
    markup = reply_markup(reply)
    return None if markup is None else markup.to_dict()
