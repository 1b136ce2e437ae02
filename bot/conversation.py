"""The pipe every edge (Telegram, terminal) uses: identify -> understand/decide -> act ->
render.

Edges hand over what the person did (text, a location, a button) and get back Replies to
send to that same chat; what other chats must see (a caseworker, a survivor) goes through
the desk's outbox. Nothing here knows about Telegram.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from bot.desk.desk import Desk
from bot.desk.roster import Member
from bot.engine.conversation_engine import BotMessage, ConversationEngine
from bot.i18n import conversation_language, supported_language
from bot.input_text import incoming_text
from bot.language_detection import written_language
from bot.privacy import Privacy, is_exit_request, normalized_word
from bot.profiles import LanguageChoice, Profiles
from bot.render import Reply, render
from bot.retention import Retention
from bot.safety import emergency_message
from bot.understanding import contract_intent
from encryption import Crypto

# Telegram commands a person may type, and the dialogue payload each one stands for.
COMMANDS: dict[str, str] = {
    "/start": "/start",
    "/menu": "/main_menu",
    "/help": "/help",
    "/language": "/change_language",
    "/forget": "/forget_me",
    "/danger": "/emergency",
    "/person": "/talk_to_human",
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
    user_id: int | None = None  # the sender; in a private chat the same number as chat_id


@dataclass(frozen=True)
class Visitor:
    """What one message needs to know about who wrote it, read in one go (one thread hop,
    two small queries) instead of one round trip per question."""

    choice: LanguageChoice
    safe_word: str | None  # hash of their own safe word
    member: Member | None  # on the desk's roster
    case_status: str | None  # of their open case

    def language(self, person: Person) -> str:
        return conversation_language(self.choice.language, person.app_language)


class Passage:
    def __init__(self, engine: ConversationEngine, profiles: Profiles, crypto: Crypto,
                 privacy: Privacy, retention: Retention, desk: Desk | None = None) -> None:
        self._engine = engine
        self._profiles = profiles
        self._crypto = crypto
        self._privacy = privacy
        self.retention = retention
        self.desk = desk

    def pseudonym(self, person: Person) -> str:
        return self._crypto.pseudonym("telegram-chat", person.chat_id)

    async def on_text(self, person: Person, text: str, message_id: int | None = None
                      ) -> list[Reply]:
        text = incoming_text(text)  # no zero-width or bidi controls (bot/input_text.py)
        if is_exit_request(text):
            return await self.quick_exit(person)
        who = await self._visitor(person)
        if who.member is not None and (
                desk_replies := await self._as_caseworker(person, text)) is not None:
            return desk_replies
        language = who.language(person)
        if self._privacy.matches_safe_word(self.pseudonym(person), text, who.safe_word):
            if self.desk:
                await self.desk.safe_word_used(self.pseudonym(person))
            return self._say_in(language, {"message": "decoy"})
        if _command(text) == "/safeword":
            return await self._set_safe_word(person, text.partition(" ")[2])
        if _command(text) == "/privacy":
            return self._say_in(language, {"message": "privacy",
                                           "days": self.retention.period.days})
        if self.desk and who.case_status:
            return await self._in_case(person, text[:MAX_TEXT_CHARS], message_id)
        if text.startswith("/"):
            command = _command(text)
            if command not in COMMANDS:
                return [render({"message": "not_understood"}, language)]
            return await self._converse(person, COMMANDS[command], language)
        if not text:
            return [render({"message": "not_understood"}, language)]
        text = text[:MAX_TEXT_CHARS]
        messages, parsed = await self._engine.handle_and_parse(self.pseudonym(person), text)
        switched = await self._follow_written_language(person, parsed, who.choice)
        replies = await self._render_dialogue(person, messages, switched or language)
        if switched:  # never silently: say so, and how to change it
            replies.append(render({"message": "language_switched"}, switched))
        return replies

    async def _visitor(self, person: Person) -> Visitor:
        pseudonym = self.pseudonym(person)

        def read() -> Visitor:
            remembered = self._profiles.remembered(pseudonym)
            member, status = self.desk.who(person.user_id, pseudonym) if self.desk else (
                None, None)
            return Visitor(remembered.choice, remembered.safe_word, member, status)

        return await asyncio.to_thread(read)

    async def _follow_written_language(self, person: Person, parsed: dict[str, Any],
                                       choice: LanguageChoice) -> str | None:
        """Answer in the language someone writes in, unless they chose one themselves. Only
        messages long enough to judge count; returns the new language when it changed.
        choice: the person's profile as this message found it."""
        written = written_language(parsed)
        if written is None:
            return None
        if choice.chosen or written == conversation_language(choice.language,
                                                             person.app_language):
            return None
        await self._profiles.set_language(self.pseudonym(person), written, chosen=False)
        return written

    async def on_location(self, person: Person, latitude: float, longitude: float) -> list[Reply]:
        who = await self._visitor(person)
        if text_only := self._desk_text_only(person, who):
            return text_only
        entities = json.dumps({"location": f"{latitude:.6f},{longitude:.6f}"})
        return await self._converse(person, f"/share_location{entities}", who.language(person))

    async def on_button(self, person: Person, data: str) -> list[Reply]:
        if data.startswith("desk:") and self.desk and person.user_id is not None:
            member, messages = await self.desk.caseworker_button(person.user_id, data)
            if member is not None:
                return [render(m, member.language) for m in messages]
        if data.startswith("lang:") and (language := supported_language(data[5:])):
            await self._profiles.set_language(self.pseudonym(person), language, chosen=True)
            if self.desk and await self.desk.case_status(self.pseudonym(person)):
                return await self._say(person, {"message": "language_changed"})
            return await self._converse(person, "/language_chosen")
        if data == "exit":
            return await self.quick_exit(person)
        if data == "forget:yes":
            language = await self.language(person)  # read before it is erased
            await self.forget(person)
            return [render({"message": "forgotten"}, language)]
        if data.startswith("handoff:") and self.desk:
            return await self._handoff_button(person, data.removeprefix("handoff:"))
        who = await self._visitor(person)
        language = who.language(person)
        if self.desk and who.case_status:
            if data == "/emergency":
                return self._say_in(language, await self._emergency(person))
            return self._say_in(language, {"message": "handoff_in_case"})
        return await self._converse(person, data if data in BUTTON_PAYLOADS else "/main_menu",
                                    language)

    async def on_unsupported(self, person: Person) -> list[Reply]:
        who = await self._visitor(person)
        if text_only := self._desk_text_only(person, who):
            return text_only
        return self._say_in(who.language(person), {"message": "unsupported_content"})

    def answering_first(self, person: Person) -> AbstractAsyncContextManager[None]:
        """Within it, a message's replies are returned as soon as the dialogue has given them,
        while its conversation is still being written; leaving waits for the writing."""
        return self._engine.answering_first(self.pseudonym(person))

    async def language(self, person: Person) -> str:
        choice = await self._profiles.language(self.pseudonym(person))
        return conversation_language(choice.language, person.app_language)

    async def forget(self, person: Person) -> None:
        pseudonym = self.pseudonym(person)
        if self.desk:
            await self.desk.erase(pseudonym)
        await self._engine.forget(pseudonym)
        await self._profiles.erase(pseudonym)

    # --- leaving no trace -------------------------------------------------------------------
    async def quick_exit(self, person: Person) -> list[Reply]:
        """Delete the chat from their phone (the edge does, from the Reply); a caseworker on
        their case is told, politely, and nothing more is sent to them. The conversation is
        forgotten too (its need, place, results; the language they chose), so that whoever
        types next on that phone meets Passage as a new person would; the desk keeps the
        ended case, as its caseworker needs it, and their safe word stays."""
        pseudonym = self.pseudonym(person)
        if self.desk:
            await self.desk.survivor_exits(pseudonym)
        await self._engine.forget(pseudonym)
        await self._profiles.forget_language(pseudonym)
        return self._say_in(conversation_language(None, person.app_language),
                            {"message": "quick_exit"})

    async def remember_messages(self, person: Person, message_ids: list[int]) -> None:
        await self._privacy.remember(self.pseudonym(person), message_ids)

    async def remember_in_chat(self, chat_hash: str, message_ids: list[int]) -> None:
        """A message the desk sent to a survivor (chat_hash is their pseudonym)."""
        await self._privacy.remember(chat_hash, message_ids)

    async def messages_to_delete(self, person: Person) -> list[int]:
        return await self._privacy.take_deletable(self.pseudonym(person))

    async def _set_safe_word(self, person: Person, word: str) -> list[Reply]:
        if not normalized_word(word) or len(word) > 40:
            return await self._say(person, {"message": "safe_word"})
        await self._privacy.set_safe_word(self.pseudonym(person), word)
        return await self._say(person, {"message": "safe_word", "set": True})

    # --- the desk ---------------------------------------------------------------------------
    async def _as_caseworker(self, person: Person, text: str) -> list[Reply] | None:
        """A caseworker on the roster works the desk; None for everyone else."""
        if person.user_id is None:
            return None
        if text.startswith("/"):
            command, _, arg = text.partition(" ")
            member, messages = await self.desk.caseworker_command(
                person.user_id, _command(command), arg)
        else:
            member, messages = await self.desk.caseworker_writes(person.user_id, text)
        if member is None:
            return None
        return [render(m, member.language) for m in messages]

    def _desk_text_only(self, person: Person, who: Visitor) -> list[Reply] | None:
        """Photos, voice, files and locations are not relayed, either way (see README)."""
        if who.member is not None:
            return [render({"message": "desk_text_only"}, who.member.language)]
        if self.desk and who.case_status:
            return self._say_in(who.language(person), {"message": "handoff_text_only"})
        return None

    async def _in_case(self, person: Person, text: str, message_id: int | None) -> list[Reply]:
        """A survivor with a case open: their words are for the caseworker. The bot only
        steps in for danger, /end, and the commands that keep them safe."""
        pseudonym = self.pseudonym(person)
        if text.startswith("/"):
            command = _command(text)
            if command == "/end":
                ended = await self.desk.survivor_ends(pseudonym)
                return await self._say(person, ended or {"message": "main_menu"})
            if command == "/danger":
                return await self._say(person, await self._emergency(person))
            if command == "/forget":
                return await self._say(person, {"message": "confirm_forget"})
            if command == "/language":
                return await self._say(person, {"message": "choose_language"})
            return await self._say(person, {"message": "handoff_in_case"})
        if not text:
            return []
        intent, _, _ = contract_intent(await self._engine.parse(text))
        source = None if message_id is None else self._crypto.pseudonym(
            "telegram-message", f"{person.chat_id}:{message_id}")
        messages = await self.desk.survivor_writes(pseudonym, text, source,
                                                   emergency=intent == "emergency")
        if intent == "emergency":
            messages.insert(0, await self._emergency(person))
        return await self._say(person, *messages)

    async def _handoff_button(self, person: Person, choice: str) -> list[Reply]:
        pseudonym = self.pseudonym(person)
        if choice == "yes":
            slots = await self._engine.slots(pseudonym)
            area = slots.get("location") or {}
            summary = {k: v for k, v in (("need", slots.get("need")),
                                         ("area", area.get("label"))) if v}
            language = await self.language(person)
            message = await self.desk.consent(pseudonym, person.chat_id, language, summary)
            if summary or message["message"] != "handoff_summary":
                return await self._say(person, message)
            choice = "noshare"  # nothing to summarise: straight to the queue
        if choice in ("share", "noshare"):
            slots = await self._engine.slots(pseudonym)
            country = (slots.get("location") or {}).get("country")
            queued = await self.desk.enqueue(pseudonym, choice == "share", country)
            if queued["message"] == "handoff_queued":
                await self._engine.pause(pseudonym)
            return await self._say(person, queued)
        if choice == "cancel":
            return await self._say(person, await self.desk.cancel(pseudonym))
        if choice == "end":
            ended = await self.desk.survivor_ends(pseudonym)
            return await self._say(person, ended or {"message": "main_menu"})
        return await self._say(person, {"message": "main_menu"})

    async def _emergency(self, person: Person) -> BotMessage:
        slots = await self._engine.slots(self.pseudonym(person))
        return emergency_message((slots.get("location") or {}).get("country"))

    # --- rendering --------------------------------------------------------------------------
    async def _say(self, person: Person, *messages: dict[str, Any]) -> list[Reply]:
        return self._say_in(await self.language(person), *messages)

    @staticmethod
    def _say_in(language: str, *messages: dict[str, Any]) -> list[Reply]:
        return [render(message, language) for message in messages]

    async def _converse(self, person: Person, text: str, language: str | None = None
                        ) -> list[Reply]:
        """language: the person's, when this message has read it already."""
        return await self._render_dialogue(
            person, await self._engine.handle(self.pseudonym(person), text), language)

    async def _render_dialogue(self, person: Person, messages: list[BotMessage],
                               language: str | None = None) -> list[Reply]:
        if self.desk:  # "talk to a person" becomes a real offer when a desk is there
            messages = [await self.desk.offer(m.get("reason", "asked"))
                        if m.get("message") == "talk_to_human" else m for m in messages]
        if language is None:
            return await self._say(person, *messages)
        return self._say_in(language, *messages)


def _command(text: str) -> str:
    words = text.split()  # none when someone sent only invisible characters
    return words[0].split("@")[0].lower() if words else ""
