"""How updates come in: an update that cannot be read is skipped, and the webhook is guarded.

An update python-telegram-bot cannot parse (Telegram has shipped Bot API changes older
libraries could not read) would otherwise stop the bot for everyone: long polling fetches the
same batch again and again without confirming its offset, and the webhook answers 400, so
Telegram sends it again. Here such an update is logged by its update_id and the error's type
only, counted, and skipped; the rest of its batch is handled.

- Long polling: ``UpdatesRequest`` (the getUpdates connection) turns an unreadable update into
  an empty one with the same update_id, which PTB confirms like any other and the gate ignores.
- Webhook: ``CheckedTelegramHandler`` answers it 200 and drops it. It also compares the secret
  in constant time, and the server refuses a body over MAX_WEBHOOK_BODY before reading it
  (PTB's tornado server would read 100 MB). PTB offers no setting for either: its webhook
  server builds its handler and tornado's HTTPServer by these module-level names.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from http import HTTPStatus

import tornado.web
from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.ext import ExtBot
from telegram.ext._utils import webhookhandler
from telegram.request import RequestData
from tornado.httpserver import HTTPServer

from bot.telegram_request import AiohttpRequest

logger = logging.getLogger(__name__)

MAX_WEBHOOK_BODY = 1024 * 1024  # an update is at most a few kB; Telegram's files come by id
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UnreadableUpdates:
    """Counts the updates skipped in this process (both ways in), for the log and for tests."""

    def __init__(self) -> None:
        self.count = 0

    def parse(self, data: object, bot: ExtBot | None) -> Update | None:
        """The update, or None when it cannot be read (then logged by id and counted)."""
        try:
            return Update.de_json(data, bot)  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - whatever a new Bot API field breaks
            self.count += 1
            update_id = data.get("update_id") if isinstance(data, dict) else None
            logger.error("update %s could not be read and was skipped (%s); %d so far",
                         update_id if isinstance(update_id, int) else "without an id",
                         type(error).__name__, self.count)
            return None


unreadable_updates = UnreadableUpdates()


class UpdatesRequest(AiohttpRequest):
    """The getUpdates connection: an update that cannot be read becomes an empty one."""

    async def post(self, url: str, request_data: RequestData | None = None,
                   read_timeout: ODVInput[float] = DEFAULT_NONE,
                   write_timeout: ODVInput[float] = DEFAULT_NONE,
                   connect_timeout: ODVInput[float] = DEFAULT_NONE,
                   pool_timeout: ODVInput[float] = DEFAULT_NONE) -> object:
        result = await super().post(url, request_data, read_timeout, write_timeout,
                                    connect_timeout, pool_timeout)
        if not isinstance(result, list):
            return result
        return [_readable_or_empty(data) for data in result
                if isinstance(data, dict) and isinstance(data.get("update_id"), int)]


def _readable_or_empty(data: dict) -> dict:
    if unreadable_updates.parse(data, None) is None:
        return {"update_id": data["update_id"]}
    return data


class CheckedTelegramHandler(webhookhandler.TelegramHandler):
    """PTB's webhook handler, with the secret compared in constant time and never logged, and
    an unreadable update skipped (200) instead of refused (400, so sent again for ever)."""

    def _validate_post(self) -> None:
        if self.request.headers.get("Content-Type") != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        if self.secret_token is not None:
            given = self.request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)

    async def post(self) -> None:
        self._validate_post()
        try:
            data = json.loads(self.request.body)
        except ValueError:
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from None
        self.set_status(HTTPStatus.OK)
        update = unreadable_updates.parse(data, self.bot)
        if update is None:
            return
        if isinstance(self.bot, ExtBot):
            self.bot.insert_callback_data(update)
        await self.update_queue.put(update)


def guard_webhook_server(one_request_per_connection: bool = False) -> None:
    """Make every webhook server PTB starts in this process use CheckedTelegramHandler and
    refuse bodies over MAX_WEBHOOK_BODY; one_request_per_connection (see
    bot.workers.spread_every_request), once asked for, stays."""
    already = getattr(webhookhandler.HTTPServer, "keywords", {}).get("no_keep_alive", False)
    webhookhandler.TelegramHandler = CheckedTelegramHandler
    webhookhandler.HTTPServer = functools.partial(
        HTTPServer, max_body_size=MAX_WEBHOOK_BODY,
        no_keep_alive=one_request_per_connection or already)
