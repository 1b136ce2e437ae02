"""The gate in front of every handler, called directly with an injected clock: danger and
quick exit go through when the person's ordinary bucket is empty, from a bucket of their own
that is generous and bounded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.rate_limit import URGENT_BURST, URGENT_SECONDS, MemoryRateLimit
from bot.telegram_gate import gate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class StubPassage:
    def pseudonym(self, person) -> str:  # noqa: ANN001
        return f"p{person.chat_id}"

    async def remember_messages(self, person, message_ids) -> None:  # noqa: ANN001
        pass

    async def language(self, person) -> str:  # noqa: ANN001
        return "es"


class StubBot:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.taps_answered = 0

    async def answer_callback_query(self, *_: object, **__: object) -> bool:
        self.taps_answered += 1
        return True

    async def send_message(self, chat_id: int, text: str, **_: object) -> SimpleNamespace:
        self.sent.append(text)
        return SimpleNamespace(message_id=len(self.sent))


USER = {"id": 7, "is_bot": False, "first_name": "Ana", "language_code": "es"}
CHAT = {"id": 7, "type": "private", "first_name": "Ana"}


def _text(text: str, update_id: int = 1) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": CHAT, "from": USER, "text": text}}, None)


def _button(data: str, update_id: int = 1) -> Update:
    message = {"message_id": 1, "date": 0, "chat": CHAT, "text": "menu",
               "from": {"id": 1, "is_bot": True, "first_name": "Passage"}}
    return Update.de_json({"update_id": update_id, "callback_query": {
        "id": str(update_id), "from": USER, "chat_instance": "c", "data": data,
        "message": message}}, None)


def _context(clock: Clock, burst: int = 1) -> SimpleNamespace:
    bot_data = {"passage": StubPassage(),
                "rate_limit": MemoryRateLimit(burst, 1.0, clock),
                "urgent_rate_limit": MemoryRateLimit(URGENT_BURST, 1 / URGENT_SECONDS, clock)}
    return SimpleNamespace(application=SimpleNamespace(bot_data=bot_data), bot=StubBot())


async def _passes(update: Update, context: SimpleNamespace) -> bool:
    if update.callback_query is not None:
        update.callback_query.set_bot(context.bot)
    try:
        await gate(update, context)
    except ApplicationHandlerStop:
        return False
    return True


URGENT = {"danger text": lambda: _text("me quiere matar, ayuda"),
          "danger button": lambda: _button("/danger"),
          "salir": lambda: _text("salir"),
          "exit button": lambda: _button("exit")}


@pytest.mark.parametrize("kind", URGENT)
async def test_danger_and_exit_are_answered_when_the_ordinary_bucket_is_empty(kind: str):
    clock = Clock()
    context = _context(clock)
    assert await _passes(_text("hola"), context)
    assert not await _passes(_text("hola otra vez"), context)  # the ordinary bucket is empty
    assert await _passes(URGENT[kind](), context)
    assert not await _passes(_text("y otra"), context)  # it did not refill the ordinary one


@pytest.mark.parametrize("kind", URGENT)
async def test_danger_and_exit_have_a_bounded_bucket_of_their_own(kind: str):
    clock = Clock()
    context = _context(clock, burst=20)
    passed = [await _passes(URGENT[kind](), context) for _ in range(150)]
    assert passed == [True] * URGENT_BURST + [False] * (150 - URGENT_BURST)
    assert len(context.bot.sent) == 1  # one polite line for the whole burst
    if kind.endswith("button"):  # a held-back tap is answered all the same
        assert context.bot.taps_answered == 150 - URGENT_BURST
    assert await _passes(_text("hola"), context)  # the ordinary bucket is untouched
    clock.now += URGENT_SECONDS  # then one every few seconds: never less than once a minute
    assert await _passes(URGENT[kind](), context)
    assert not await _passes(URGENT[kind](), context)
    clock.now += 60
    assert await _passes(URGENT[kind](), context)
