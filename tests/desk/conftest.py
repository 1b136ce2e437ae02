"""The desk's tests: a clean desk per test, a roster, and ways to act as its people."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.desk import roster
from tests.fake_bot_api import FakeBotAPI, FakeUser, inline_buttons


@dataclass
class Desk:
    """The people of one desk test, on one fake Telegram."""

    fake: FakeBotAPI
    engine: object

    def caseworker(self, name: str, languages: str, role: str = "caseworker",
                   ui_language: str = "en") -> FakeUser:
        user = self.fake.new_user(first_name=name, language_code=ui_language)
        roster.add(self.engine, user.id, name, languages, None, role)
        return user

    async def say(self, user: FakeUser, text: str, replies: int = 1) -> list[dict]:
        await self.fake.send_text(user, text)
        return await self.fake.wait_for_bot_messages(user, replies) if replies else []

    async def press(self, user: FakeUser, message: dict, data: str, replies: int = 1
                    ) -> list[dict]:
        await self.fake.press_button(user, message["message_id"], data)
        return await self.fake.wait_for_bot_messages(user, replies) if replies else []

    async def on_duty(self, user: FakeUser) -> None:
        [duty, queue] = await self.say(user, "/duty on", 2)
        assert "on duty" in duty["text"]

    async def ask_for_a_person(self, survivor: FakeUser) -> dict:
        """/start, the menu's "talk to a person", consent: returns the consent message."""
        [welcome] = await self.say(survivor, "/start")
        [offer] = await self.press(survivor, welcome, "/talk_to_human")
        assert ("handoff:yes" in [d for _, d in inline_buttons(offer)]), offer["text"]
        return offer

    async def queue(self, survivor: FakeUser) -> dict:
        offer = await self.ask_for_a_person(survivor)
        [queued] = await self.press(survivor, offer, "handoff:yes")
        return queued


def case_number(text: str) -> int:
    return int(re.search(r"#(\d+)", text).group(1))


def has_button(message: dict, data: str) -> bool:
    return any(d == data for _, d in inline_buttons(message))
