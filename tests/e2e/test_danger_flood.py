"""One account floods the bot with danger while someone else is in danger at the same moment
(`passage run` in this process, long polling, Telegram's ~30 messages a second)."""

from __future__ import annotations

import math
import time

from bot.rate_limit import URGENT_BURST, URGENT_SECONDS
from tests.e2e.test_hostile_input import _drained

FLOOD = 150


def _bot_texts(fake, user) -> list[str]:  # noqa: ANN001
    return [m["text"] for m in fake.visible_messages(user) if m["from"]["is_bot"]]


async def test_a_danger_flood_is_bounded_and_another_person_in_danger_is_answered_at_once(
        fake_telegram, bot):
    fake = fake_telegram
    flooder, other = fake.new_user(language_code="en"), fake.new_user(language_code="en")
    await fake.send_text(flooder, "I'm in danger now")  # how many messages one answer takes
    per_answer = len(await fake.wait_for_bot_messages(flooder, timeout=30))
    flood_began = time.monotonic()
    for _ in range(FLOOD):
        await fake.send_text(flooder, "I'm in danger now")
    started = time.monotonic()
    await fake.send_text(other, "I'm in danger, help me")
    [first, *_] = await fake.wait_for_bot_messages(other, timeout=2)
    latency = time.monotonic() - started
    assert "112" in first["text"] or "911" in first["text"]
    await _drained(fake)
    refilled = math.ceil((time.monotonic() - flood_began) / URGENT_SECONDS)

    replies = len(_bot_texts(fake, flooder)) - per_answer
    print(f"\n{FLOOD} danger messages from one account: {replies} bot messages back "
          f"({per_answer} per answer); another person's first reply after {latency:.2f} s")
    # the urgent bucket's burst, the tokens that came back while it worked, one polite line
    assert replies <= (URGENT_BURST + refilled) * per_answer + 1
    assert fake.rejected == []
