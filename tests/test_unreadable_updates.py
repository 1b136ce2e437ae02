"""An update the library cannot parse is skipped and counted, the people after it are answered,
and nothing of it reaches the log at any level; the webhook is guarded (body size, secret)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from telegram.ext import Application
from telegram.ext._utils import webhookhandler

from bot import telegram_updates
from bot.logging_setup import QUIET_LOGGERS
from bot.telegram_app import ALLOWED_UPDATES, build_application
from bot.telegram_updates import MAX_WEBHOOK_BODY, SECRET_HEADER, unreadable_updates
from bot.workers import spread_every_request
from tests.e2e.expectations import shown

PUBLIC = "https://passage.example.org"
SECRET = "s3cret-for-this-test"


@pytest.fixture
def whole_log() -> Iterator[io.StringIO]:
    """Every record of the run at every level, tracebacks included, as an operator's file
    handler at DEBUG would write them."""
    names = ["", *QUIET_LOGGERS, "bot"]
    levels = {name: logging.getLogger(name).level for name in names}
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield out
    logging.getLogger().removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def webhook_bot(fake, passage, port: int) -> AsyncIterator[Application]:  # noqa: ANN001
    """`passage run` in webhook mode in this process, behind the fake's "load balancer"."""
    application = build_application(passage, fake.token, fake.base_url)
    fake.route_webhooks(PUBLIC, f"http://127.0.0.1:{port}")
    await application.initialize()
    await application.start()
    await application.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", webhook_url=f"{PUBLIC}/hook",
        secret_token=SECRET, allowed_updates=ALLOWED_UPDATES)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def _unreadable_update_then_another_person(fake, capsys, whole_log) -> None:  # noqa: ANN001
    marker = f"MARKER{uuid.uuid4().hex}"
    skipped_before = unreadable_updates.count
    sender = fake.new_user(first_name=f"{marker}name", language_code="en",
                           username=f"{marker}user")
    other = fake.new_user(language_code="en")
    await fake.send_unreadable_text(sender, f"my secret {marker}")
    await fake.send_text(other, "/start")
    await fake.send_text(other, "I need a place to sleep")
    replies = await fake.wait_for_bot_messages(other, count=2, timeout=30)
    assert replies[0]["text"] == shown("welcome", "en")
    assert await fake.wait_until(lambda: not fake._updates)
    assert unreadable_updates.count == skipped_before + 1  # once: not fetched again and again
    assert not [m for m in fake.visible_messages(sender) if m["from"]["is_bot"]]
    printed = capsys.readouterr()
    log = whole_log.getvalue()
    assert "could not be read and was skipped" in log
    assert marker not in log + printed.out + printed.err
    assert fake.rejected == []


async def test_long_polling_skips_an_unreadable_update_and_logs_nothing_of_it(
        fake_telegram, bot, capsys, whole_log):
    await _unreadable_update_then_another_person(fake_telegram, capsys, whole_log)


async def test_the_webhook_skips_an_unreadable_update_and_logs_nothing_of_it(
        fake_telegram, passage, capsys, whole_log):
    async with webhook_bot(fake_telegram, passage, _free_port()):
        await _unreadable_update_then_another_person(fake_telegram, capsys, whole_log)
    assert all(d.ok for d in fake_telegram.deliveries)  # nothing refused, so nothing sent again


@pytest.mark.parametrize("workers", [1, 3])
async def test_the_webhook_refuses_a_large_body_before_reading_it(fake_telegram, passage,
                                                                  workers, monkeypatch):
    monkeypatch.setattr(webhookhandler, "HTTPServer", webhookhandler.HTTPServer)  # put back after
    monkeypatch.setattr(webhookhandler, "TelegramHandler", webhookhandler.TelegramHandler)
    if workers > 1:  # what `passage run --workers N` does in each worker
        spread_every_request()
    port = _free_port()
    async with webhook_bot(fake_telegram, passage, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"{SECRET_HEADER}: {SECRET}\r\n".encode()
                     + f"Content-Length: {100 * MAX_WEBHOOK_BODY}\r\n\r\n".encode())
        await writer.drain()  # and not one byte of the body: the answer must come without it
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
        writer.close()
        assert status_line.split()[1] in (b"400", b"413")
        body = b" " * (MAX_WEBHOOK_BODY - 20) + b'{"update_id": 1}'  # just under the cap
        async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{port}/hook", data=body,
                headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}) as response:
            assert response.status == 200
            assert response.headers.get("Connection") == ("close" if workers > 1 else None)


async def test_the_webhook_secret_is_compared_in_constant_time(fake_telegram, passage,
                                                               monkeypatch):
    compared = []

    def compare_digest(given: bytes, expected: bytes) -> bool:
        compared.append(expected)
        return given == expected

    monkeypatch.setattr(telegram_updates.hmac, "compare_digest", compare_digest)
    port = _free_port()
    async with webhook_bot(fake_telegram, passage, port), aiohttp.ClientSession() as session:
        statuses = []
        for secret in ("wrong", SECRET[:-1], "", SECRET):
            async with session.post(f"http://127.0.0.1:{port}/hook", data=b'{"update_id": 1}',
                                    headers={SECRET_HEADER: secret,
                                             "Content-Type": "application/json"}) as response:
                statuses.append(response.status)
    assert statuses == [403, 403, 403, 200]
    assert compared == [SECRET.encode()] * 4
