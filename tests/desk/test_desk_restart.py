"""A crash in the middle of a claimed chat: the real `passage run`, killed and started again.
Everything the desk knows is in the database, so the relay goes on with nothing lost and
nothing doubled, including what both sides wrote while the bot was down."""

from __future__ import annotations

import asyncio
import subprocess

from bot.desk import roster
from tests.desk.conftest import Desk, case_number
from tests.e2e.test_commands import PASSAGE, STARTUP_SECONDS, _env


async def _start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        PASSAGE, "run", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


async def _relayed(fake, user, words: str) -> bool:  # noqa: ANN001
    """The words reached the person (whatever else the bot said: a short message may also
    get the emergency numbers, by design)."""
    return await fake.wait_until(lambda: any(t.endswith(words) for t in _bot_texts(fake, user)))


def _bot_texts(fake, user) -> list[str]:  # noqa: ANN001
    return [m.get("text", "") for m in fake.visible_messages(user) if m["from"]["is_bot"]]


async def test_relay_survives_a_crash_with_nothing_lost_or_doubled(
        fake_telegram, passage, settings, clean_desk):
    desk = Desk(fake_telegram, clean_desk)
    rosa = fake_telegram.new_user("Rosa", "en")
    roster.add(clean_desk, rosa.id, "Rosa", "en,es", None, "caseworker")
    ana = fake_telegram.new_user("Ana", "es")
    env = _env(settings, TELEGRAM_BOT_TOKEN=fake_telegram.token,
               TELEGRAM_API_BASE_URL=fake_telegram.base_url)

    first = await _start(env)
    try:
        await fake_telegram.send_text(rosa, "/duty on")
        await fake_telegram.wait_for_bot_messages(rosa, 2, timeout=STARTUP_SECONDS)
        await desk.queue(ana)
        [notice] = await fake_telegram.wait_for_bot_messages(rosa)
        case = case_number(notice["text"])
        await desk.press(rosa, notice, f"desk:claim:{case}")
        await fake_telegram.wait_for_bot_messages(ana)
        await desk.say(ana, "uno: sigo aquí", replies=0)
        await fake_telegram.wait_for_bot_messages(rosa)
        await desk.say(rosa, "Hola Ana, te leo.", replies=0)
        assert await _relayed(fake_telegram, ana, "Hola Ana, te leo.")
        # Between Telegram accepting a message and the outbox row being deleted lies a
        # moment (milliseconds) in which a crash would send it again: crash after it.
        for _ in range(100):
            if not await passage.desk.pending():
                break
            await asyncio.sleep(0.05)
    finally:
        first.kill()  # a crash, not a clean stop
        await first.wait()

    # While the bot is down, both keep writing.
    await fake_telegram.send_text(ana, "dos: ¿hola?")
    await fake_telegram.send_text(rosa, "Sigo contigo.")

    second = await _start(env)
    try:
        [relayed] = await fake_telegram.wait_for_bot_messages(rosa, timeout=STARTUP_SECONDS)
        assert relayed["text"] == f"💬 #{case}\ndos: ¿hola?"
        assert await _relayed(fake_telegram, ana, "Sigo contigo."), fake_telegram.transcript(ana)
        await desk.say(ana, "tres: gracias", replies=0)
        [third] = await fake_telegram.wait_for_bot_messages(rosa)
        assert third["text"] == f"💬 #{case}\ntres: gracias"
    finally:
        second.terminate()
        await asyncio.wait_for(second.wait(), 60)

    for_rosa, for_ana = _bot_texts(fake_telegram, rosa), _bot_texts(fake_telegram, ana)
    for words in ("uno: sigo aquí", "dos: ¿hola?", "tres: gracias"):
        assert sum(text.endswith(words) for text in for_rosa) == 1, (words, for_rosa)
    for words in ("Hola Ana, te leo.", "Sigo contigo."):
        assert sum(text.endswith(words) for text in for_ana) == 1, (words, for_ana)
    assert fake_telegram.rejected == []
