"""A strict fake Telegram Bot API server for end-to-end tests.

Real python-telegram-bot talks to it over real HTTP (``ApplicationBuilder().base_url(...)``), so
the bot may run in this event loop or in another process. Tests drive the user's side through async
methods (``send_text``, ``press_button``...) and read what the user sees now (``visible_messages``).
Errors mirror Telegram's wording and status codes, so a bug that Telegram would reject fails the
test. Text and markup are checked by the rules in ``tests.telegram_rules`` (see its docstring for
their deliberate differences from Telegram). Deliberate differences of the server from Telegram:

* flood limits and files are not simulated, groups barely (see ``tests.fake_chats``);
  ``fail_next`` injects any error (e.g. 429 with ``retry_after``, 403 "bot was blocked by the
  user") for one call;
* webhooks are delivered for real, to local http servers only (see ``tests.fake_webhooks``:
  ``route_webhooks`` plays the TLS-terminating load balancer; ``deliveries`` records each POST).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fake_chats import OddUpdates
from tests.fake_webhooks import WebhookDelivering, WebhookDelivery
from tests.telegram_rules import (
    CHAT_ACTIONS,
    COMMAND_RE,
    JSON,
    ApiError,
    bad,
    check_markup,
    check_text,
    inline_buttons,
    reply_buttons,
    utf16_len,
)

__all__ = ["ApiError", "Call", "FakeBotAPI", "FakeUser", "WebhookDelivery", "check_markup",
           "check_text", "inline_buttons", "reply_buttons"]

DELETE_WINDOW = 48 * 3600
# Parameters sent as raw strings; PTB JSON-encodes every other non-string value.
_STRING_PARAMS = {"text", "parse_mode", "callback_query_id", "url", "action", "language_code",
                  "secret_token", "ip_address", "inline_message_id", "business_connection_id"}
_TOKEN_RE = re.compile(r"^\d+:[\w-]+$")
# Unique across fakes in one test session: a bot under test that outlives one fake (one Rasa
# agent per session) must never mistake a new user for an earlier test's user.
_USER_NUMBERS = itertools.count(1)


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user with a private chat with the bot (chat id == user id)."""

    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None

    def as_api(self) -> JSON:
        data = {"id": self.id, "is_bot": False, "first_name": self.first_name,
                "username": self.username, "language_code": self.language_code}
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class Call:
    """One Bot API request as the fake saw it."""

    method: str
    params: JSON
    ok: bool
    error: str | None = None
    injected: bool = False  # failed by ``fail_next``: the test asked for it

    def __str__(self) -> str:
        return f"{self.method}: {self.error}" if self.error else self.method


@dataclass
class _Chat:
    user: FakeUser
    messages: dict[int, JSON] = field(default_factory=dict)  # visible now, in order
    bot_sent: list[JSON] = field(default_factory=list)  # every bot message ever sent
    seen: int = 0  # bot_sent entries already returned by wait_for_bot_messages
    reply_keyboard: JSON | None = None
    next_id: int = 1
    started: bool = False  # a bot cannot write first to a user


class FakeBotAPI(OddUpdates, WebhookDelivering):
    """Strict fake Bot API served over HTTP; see the module docstring."""

    def __init__(self, token: str = "123456:TEST-TOKEN", host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.token, self.host, self.port = token, host, port
        self.bot_user: JSON = {"id": int(token.split(":")[0]), "is_bot": True,
                               "first_name": "Passage Test", "username": "passage_test_bot",
                               "can_join_groups": False, "can_read_all_group_messages": False,
                               "supports_inline_queries": False}
        self.calls: list[Call] = []
        self._init_webhooks()
        self.commands: dict[str, list[JSON]] = {}
        self._chats: dict[int, _Chat] = {}
        self._updates: list[JSON] = []
        self._allowed_updates: set[str] | None = None
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._failures: dict[str, ApiError] = {}
        self._expected_rejections: list[re.Pattern[str]] = []
        self._ids = itertools.count(1)
        self._clock_offset = 0.0
        self._closing = False
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> FakeBotAPI:
        self._cond, self._closing = asyncio.Condition(), False
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._start_webhooks()
        return self

    async def stop(self) -> None:
        self._closing = True
        await self._notify()  # wake long polls so shutdown does not wait for them
        await self._stop_webhooks()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    # --- test-side API ---------------------------------------------------------------------
    @property
    def rejected(self) -> list[Call]:
        return [c for c in self.calls if not c.ok]

    def expect_rejections(self, *patterns: str) -> None:
        """Declare rejections this test causes on purpose: each pattern is a regular expression
        searched, ignoring case, in a rejected call's ``"method: error"``. Undeclared ones fail
        the test (the ``fake_telegram`` fixture checks at teardown); ``fail_next`` declares its
        own."""
        self._expected_rejections += [re.compile(p, re.IGNORECASE) for p in patterns]

    def undeclared_rejections(self) -> list[Call]:
        """Rejected calls that neither ``fail_next`` injected nor the test declared."""
        return [call for call in self.rejected if not call.injected and not any(
            pattern.search(str(call)) for pattern in self._expected_rejections)]

    def now(self) -> int:
        return int(time.time() + self._clock_offset)

    def advance_clock(self, seconds: float) -> None:
        self._clock_offset += seconds

    def fail_next(self, method: str, error_code: int = 429, description: str | None = None,
                  retry_after: int | None = None) -> None:
        """Make the next call of ``method`` fail once (default: flood control, 429)."""
        if error_code == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        self._failures[method.lower()] = ApiError(error_code, description or "Error", retry_after)

    def new_user(self, first_name: str = "Ana", language_code: str | None = "es",
                 username: str | None = None) -> FakeUser:
        """A user with a private chat; the bot may write once the user has sent something."""
        user = FakeUser(5_000_000_000 + 7919 * next(_USER_NUMBERS), first_name, language_code,
                        username)
        self._chats[user.id] = _Chat(user)
        return user

    def visible_messages(self, user: FakeUser | int) -> list[JSON]:
        """What the user sees now: both sides, in order, with edits and deletions applied."""
        return copy.deepcopy(list(self._chat_of(user).messages.values()))

    def reply_keyboard(self, user: FakeUser | int) -> JSON | None:
        """The reply keyboard currently shown to the user, if any."""
        return copy.deepcopy(self._chat_of(user).reply_keyboard)

    async def send_text(self, user: FakeUser, text: str) -> JSON:
        msg = self._user_message(user, text=text)
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": utf16_len(text.split()[0])}]
        await self._push_update("message", msg)
        return copy.deepcopy(msg)

    async def send_unreadable_text(self, user: FakeUser, text: str) -> JSON:
        """A text message with an entity today's library cannot parse (no offset, no length),
        as a Bot API change could send it."""
        msg = self._user_message(user, text=text)
        await self._push_update("message", {**msg, "entities": [{"type": "bold"}]})
        return copy.deepcopy(msg)

    async def send_content(self, user: FakeUser, **content: Any) -> JSON:
        """Any other kind of message: photo=[...], sticker={...}, voice={...}, contact={...}."""
        msg = self._user_message(user, **content)
        await self._push_update("message", msg)
        return copy.deepcopy(msg)

    async def share_location(self, user: FakeUser, latitude: float, longitude: float) -> JSON:
        msg = self._user_message(user, location={"latitude": latitude, "longitude": longitude})
        await self._push_update("message", msg)
        return copy.deepcopy(msg)

    async def press_reply_button(self, user: FakeUser, text: str) -> JSON:
        """Tap a reply-keyboard button; it must be on the keyboard the user sees now."""
        shown = [b["text"] for b in reply_buttons({"reply_markup": self.reply_keyboard(user)})]
        assert text in shown, f"no reply button {text!r} on screen; buttons: {shown}"
        return await self.send_text(user, text)

    async def press_button(self, user: FakeUser, message_id: int, callback_data: str) -> JSON:
        """Tap an inline button; it must be on that message's current keyboard."""
        msg = self._chat_of(user).messages.get(message_id)
        assert msg is not None, f"message {message_id} is not visible in chat {user.id}"
        buttons = inline_buttons(msg)
        assert any(data == callback_data for _, data in buttons), (
            f"message {message_id} has no button with callback_data {callback_data!r}; "
            f"buttons: {buttons}")
        query_id = str(8_000_000_000_000 + next(self._ids))
        self._callback_queries[query_id] = False
        query = {"id": query_id, "from": user.as_api(), "message": self._api_message(msg),
                 "chat_instance": str(-user.id), "data": callback_data}
        await self._push_update("callback_query", query)
        return copy.deepcopy(query)

    async def wait_until(self, predicate: Callable[[], object], timeout: float = 10) -> bool:
        """Wait until ``predicate()`` is true (re-checked after every call and update)."""
        assert self._cond is not None, "call await fake.start() first"
        async with self._cond:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._cond.wait_for(predicate), timeout)
        return bool(predicate())

    def transcript(self, user: FakeUser | int) -> str:
        """The visible chat and the rejected calls, for assertion messages."""
        lines = [f"  [{m['message_id']}] {'bot' if m['from']['is_bot'] else 'user'}: "
                 f"{m.get('text', m.get('location'))!r} {inline_buttons(m) or ''}"
                 for m in self._chat_of(user).messages.values()]
        errors = [f"  {c}" for c in self.rejected]
        errors = errors or ["  none"]
        return "\n".join(["Visible transcript:", *lines, "Rejected calls:", *errors])

    async def wait_for_bot_messages(self, user: FakeUser | int, count: int = 1,
                                    timeout: float = 10) -> list[JSON]:
        """Wait until at least ``count`` bot messages arrived since the last wait; return all."""
        chat = self._chat_of(user)
        if not await self.wait_until(lambda: len(chat.bot_sent) - chat.seen >= count, timeout):
            raise AssertionError(f"expected {count} new bot message(s) within {timeout}s, got "
                                 f"{len(chat.bot_sent) - chat.seen}.\n{self.transcript(user)}")
        new, chat.seen = chat.bot_sent[chat.seen:], len(chat.bot_sent)
        return copy.deepcopy(new)

    # --- internals -------------------------------------------------------------------------
    def _chat_of(self, user: FakeUser | int) -> _Chat:
        return self._chats[user.id if isinstance(user, FakeUser) else user]

    def _add_message(self, chat: _Chat, sender: JSON, **content: Any) -> JSON:
        msg = {"message_id": chat.next_id, "from": sender, "date": self.now(),
               "chat": {"id": chat.user.id, "type": "private", "first_name": chat.user.first_name},
               **{k: v for k, v in content.items() if v is not None}}
        chat.next_id += 1
        chat.messages[msg["message_id"]] = msg
        return msg

    def _user_message(self, user: FakeUser, **content: Any) -> JSON:
        chat = self._chat_of(user)
        chat.started = True
        return self._add_message(chat, user.as_api(), **content)

    async def _notify(self) -> None:
        self._wake_webhooks()
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()

    def _is_allowed(self, update: JSON) -> bool:
        allowed = self._allowed_updates
        return not allowed or set(update) - {"update_id"} <= allowed

    async def _push_update(self, kind: str, payload: JSON) -> None:
        self._updates.append({"update_id": 100_000 + next(self._ids), kind: copy.deepcopy(payload)})
        await self._notify()

    @staticmethod
    def _api_message(msg: JSON) -> JSON:
        """The Message as the API returns it: only inline keyboards are part of a Message."""
        api = copy.deepcopy(msg)
        if "inline_keyboard" not in (api.get("reply_markup") or {}):
            api.pop("reply_markup", None)
        return api

    def _chat_param(self, params: JSON) -> _Chat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad("chat_id is empty")
        chat = self._chats.get(int(chat_id)) if re.fullmatch(r"-?\d+", str(chat_id)) else None
        if chat is None:
            raise bad("chat not found")
        if not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _message_param(self, params: JSON, missing: str) -> tuple[_Chat, JSON]:
        if params.get("inline_message_id"):
            raise bad("fake Bot API does not support inline messages")
        chat = self._chat_param(params)
        if params.get("message_id") is None:
            raise bad("message identifier is not specified")
        msg = chat.messages.get(int(params["message_id"]))
        if msg is None:
            raise bad(missing)
        return chat, msg

    async def _handle(self, request: web.Request) -> web.Response:
        prefix, _, method = request.match_info["path"].partition("/")
        params: JSON = {}
        for key, value in {**request.query, **(await request.post())}.items():
            params[key] = value
            if key not in _STRING_PARAMS and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        handler = getattr(self, f"_m_{method.lower()}", None)
        injected = False
        try:
            if not prefix.startswith("bot") or not _TOKEN_RE.match(prefix[3:]) or "/" in method:
                raise ApiError(404, "Not Found")
            if prefix[3:] != self.token:
                raise ApiError(401, "Unauthorized")
            if handler is None:
                raise ApiError(404, "Not Found")
            if method.lower() in self._failures:
                injected = True
                raise self._failures.pop(method.lower())
            try:
                result = await handler(params)
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raise bad(f"wrong parameter value: {exc}") from exc
        except ApiError as err:
            self.calls.append(Call(method, params, False, err.description, injected))
            body: JSON = {"ok": False, "error_code": err.code, "description": err.description}
            if err.retry_after:
                body["parameters"] = {"retry_after": err.retry_after}
            return web.json_response(body, status=err.code)
        self.calls.append(Call(method, params, True))
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    # --- Bot API methods (dispatched by lower-cased name) ----------------------------------
    async def _m_getme(self, params: JSON) -> JSON:
        return self.bot_user

    async def _m_getupdates(self, params: JSON) -> list[JSON]:
        if self.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"] or ()) or None
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

        def deliverable() -> list[JSON]:
            return [u for u in self._updates if self._is_allowed(u)]

        assert self._cond is not None
        async with self._cond:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._cond.wait_for(
                    lambda: self._closing or bool(deliverable())), float(params.get("timeout", 0)))
        return copy.deepcopy(deliverable()[: max(1, min(limit, 100))])

    @staticmethod
    def _commands_key(params: JSON) -> str:
        return json.dumps([params.get("scope") or {"type": "default"},
                           params.get("language_code") or ""], sort_keys=True)

    async def _m_setmycommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("can't parse commands JSON object")
        for command in commands:
            if not COMMAND_RE.match(str(command.get("command", ""))):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad("command description must be non-empty")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _m_getmycommands(self, params: JSON) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _m_deletemycommands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _m_sendchataction(self, params: JSON) -> bool:
        self._chat_param(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    def _send(self, chat: _Chat, params: JSON, **content: Any) -> JSON:
        markup = check_markup(params.get("reply_markup"))
        reply = params.get("reply_parameters") or {}
        reply_id = reply.get("message_id", params.get("reply_to_message_id"))
        if reply_id is not None and int(reply_id) not in chat.messages and not (
            reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply")
        ):
            raise bad("message to be replied not found")
        if markup and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup and "remove_keyboard" in markup:
            chat.reply_keyboard = None
        msg = self._add_message(chat, self.bot_user, reply_markup=markup, **content)
        chat.bot_sent.append(msg)
        return self._api_message(msg)

    async def _m_sendmessage(self, params: JSON) -> JSON:
        chat = self._chat_param(params)
        text, entities = check_text(params)
        return self._send(chat, params, text=text, entities=entities)

    async def _m_sendlocation(self, params: JSON) -> JSON:
        chat = self._chat_param(params)
        try:
            lat, lon = float(params["latitude"]), float(params["longitude"])
        except (KeyError, TypeError, ValueError):
            raise bad("wrong latitude or longitude") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bad("wrong latitude or longitude")
        return self._send(chat, params, location={"latitude": lat, "longitude": lon})

    def _edit(self, params: JSON, update: Callable[[JSON], JSON]) -> JSON:
        _, msg = self._message_param(params, "message to edit not found")
        if not msg["from"]["is_bot"]:
            raise bad("message can't be edited")
        markup = check_markup(params.get("reply_markup"), inline_only=True)
        new = {**update(msg), "reply_markup": markup}
        if all(msg.get(k) == v for k, v in new.items()):
            raise bad("message is not modified: specified new message content and reply markup "
                      "are exactly the same as a current content and reply markup of the message")
        msg.update({k: v for k, v in new.items() if v is not None}, edit_date=self.now())
        for key in [k for k, v in new.items() if v is None]:
            msg.pop(key, None)
        return self._api_message(msg)

    async def _m_editmessagetext(self, params: JSON) -> JSON:
        text, entities = check_text(params)

        def new_text(msg: JSON) -> JSON:
            if "text" not in msg:
                raise bad("there is no text in the message to edit")
            return {"text": text, "entities": entities}

        return self._edit(params, new_text)

    async def _m_editmessagereplymarkup(self, params: JSON) -> JSON:
        return self._edit(params, lambda msg: {})

    def _delete(self, chat: _Chat, message_id: int) -> None:
        msg = chat.messages.get(message_id)
        if msg is None:
            raise bad("message to delete not found")
        if self.now() - msg["date"] >= DELETE_WINDOW:
            raise bad("message can't be deleted for everyone")
        del chat.messages[message_id]

    async def _m_deletemessage(self, params: JSON) -> bool:
        chat, msg = self._message_param(params, "message to delete not found")
        self._delete(chat, msg["message_id"])
        return True

    async def _m_deletemessages(self, params: JSON) -> bool:
        """Like Telegram: skip messages that cannot be deleted, fail only if none could be."""
        chat = self._chat_param(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad("message identifiers are not specified")
        deleted = 0
        for message_id in ids:
            with contextlib.suppress(ApiError):
                self._delete(chat, int(message_id))
                deleted += 1
        if not deleted:
            raise bad("message to delete not found")
        return True

    async def _m_answercallbackquery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if self._callback_queries.get(query_id, True):
            raise bad("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise bad("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = True
        return True
