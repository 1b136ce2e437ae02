"""The pipe every edge (Telegram, terminal) uses: identify -> understand/decide -> render.

Edges hand over what the person did (text, a location, a button) and get back Replies to
send; nothing here knows about Telegram.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.engine.conversation_engine import ConversationEngine
from bot.i18n import conversation_language, supported_language
from bot.language_detection import written_language
from bot.profiles import Profiles
from bot.render import Reply, render
from encryption import Crypto

# Telegram commands a person may type, and the dialogue payload each one stands for.
COMMANDS: dict[str, str] = {
    "/start": "/start",
    "/menu": "/main_menu",
    "/help": "/help",
    "/language": "/change_language",
    "/forget": "/forget_me",
    "/danger": "/emergency",
}
# Dialogue payloads that buttons may carry. Anything else in a callback is forged or stale.
BUTTON_PAYLOADS = frozenset({
    "/main_menu", "/find_service", "/emergency", "/talk_to_human", "/change_language",
    "/need_shelter", "/need_legal", "/need_immigration", "/need_medical", "/need_counseling",
    "/need_basic_needs", "/need_work", "/need_return_home", "/need_hotline",
})
MAX_TEXT_CHARS = 1000  # enough to say what one needs; keeps the NLU fast


@dataclass(frozen=True)
class Person:
    """Who wrote, as the edge knows them. Only a pseudonym of chat_id is ever stored."""

    chat_id: int
    app_language: str | None = None  # Telegram's language_code


class Passage:
    def __init__(self, engine: ConversationEngine, profiles: Profiles, crypto: Crypto) -> None:
        self._engine = engine
        self._profiles = profiles
        self._crypto = crypto

    def pseudonym(self, person: Person) -> str:
        return self._crypto.pseudonym("telegram-chat", person.chat_id)

    async def on_text(self, person: Person, text: str) -> list[Reply]:
        text = text.strip()
        if text.startswith("/"):
            command = text.split()[0].split("@")[0].lower()
            if command not in COMMANDS:
                return [render({"message": "not_understood"}, await self.language(person))]
            return await self._converse(person, COMMANDS[command])
        if not text:
            return [render({"message": "not_understood"}, await self.language(person))]
        text = text[:MAX_TEXT_CHARS]
        switched = await self._follow_written_language(person, text)
        replies = await self._converse(person, text)
        if switched:  # never silently: say so, and how to change it
            replies.append(render({"message": "language_switched"}, switched))
        return replies

    async def _follow_written_language(self, person: Person, text: str) -> str | None:
        """Answer in the language someone writes in, unless they chose one themselves. Only
        messages long enough to judge count; returns the new language when it changed."""
        written = written_language(await self._engine.parse(text))
        if written is None:
            return None
        choice = await self._profiles.language(self.pseudonym(person))
        if choice.chosen or written == conversation_language(choice.language,
                                                             person.app_language):
            return None
        await self._profiles.set_language(self.pseudonym(person), written, chosen=False)
        return written

    async def on_location(self, person: Person, latitude: float, longitude: float) -> list[Reply]:
        entities = json.dumps({"location": f"{latitude:.6f},{longitude:.6f}"})
        return await self._converse(person, f"/share_location{entities}")

    async def on_button(self, person: Person, data: str) -> list[Reply]:
        if data.startswith("lang:") and (language := supported_language(data[5:])):
            await self._profiles.set_language(self.pseudonym(person), language, chosen=True)
            return await self._converse(person, "/language_chosen")
        if data == "forget:yes":
            language = await self.language(person)  # read before it is erased
            await self.forget(person)
            return [render({"message": "forgotten"}, language)]
        if data in BUTTON_PAYLOADS:
            return await self._converse(person, data)
        return await self._converse(person, "/main_menu")

    async def on_unsupported(self, person: Person) -> list[Reply]:
        return [render({"message": "unsupported_content"}, await self.language(person))]

    async def language(self, person: Person) -> str:
        choice = await self._profiles.language(self.pseudonym(person))
        return conversation_language(choice.language, person.app_language)

    async def forget(self, person: Person) -> None:
        pseudonym = self.pseudonym(person)
        await self._engine.forget(pseudonym)
        await self._profiles.erase(pseudonym)

    async def _converse(self, person: Person, text: str) -> list[Reply]:
        messages = await self._engine.handle(self.pseudonym(person), text)
        language = await self.language(person)
        return [render(message, language) for message in messages]
