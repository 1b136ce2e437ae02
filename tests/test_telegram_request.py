"""The bot's HTTP client for the Bot API (bot/telegram_request.py): what PTB expects of any
request class — the call's fields arrive, files as multipart, and failures become PTB's
TimedOut and NetworkError. Every end-to-end test sends through it too."""

from __future__ import annotations

import asyncio
import io

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.telegram_request import AiohttpRequest

TOKEN = "123:abc"


@pytest.fixture
async def api():  # noqa: ANN201 - (base URL, what each call received)
    received: list[dict] = []

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "slow":
            await asyncio.sleep(1)
        received.append({"method": name, "content_type": request.content_type,
                         **await request.post()})
        result = ({"id": 123, "is_bot": True, "first_name": "Passage", "username": "p_bot"}
                  if name == "getMe" else
                  {"message_id": 7, "date": 0, "chat": {"id": 1, "type": "private"}})
        return web.json_response({"ok": True, "result": result})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/{{name}}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - the port it took
    yield f"http://127.0.0.1:{port}/bot", received
    await runner.cleanup()


async def test_a_message_arrives_with_its_fields(api):
    base_url, received = api
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as bot:
        sent = await bot.send_message(1, "<b>hola</b>", parse_mode="HTML")
    assert sent.message_id == 7
    assert received[-1] == {"method": "sendMessage", "chat_id": "1", "text": "<b>hola</b>",
                            "parse_mode": "HTML",
                            "content_type": "application/x-www-form-urlencoded"}


async def test_files_go_as_multipart(api):
    base_url, received = api
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as bot:
        await bot.send_document(1, InputFile(io.BytesIO(b"%PDF-1"), filename="a.pdf"),
                                caption="x")
    call = received[-1]
    assert call["method"] == "sendDocument" and call["caption"] == "x"
    assert call["content_type"] == "multipart/form-data"
    assert call["document"].filename == "a.pdf" and call["document"].file.read() == b"%PDF-1"


async def test_a_slow_answer_is_timed_out_and_no_server_is_a_network_error(api):
    base_url, _ = api
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{base_url}{TOKEN}/slow")
        with pytest.raises(NetworkError):
            await request.post("http://127.0.0.1:9/bot123:abc/getMe")
    finally:
        await request.shutdown()
