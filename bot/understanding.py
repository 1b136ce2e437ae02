"""What a message means, in the contract shape tools and evaluations use:
{"text", "language", "intent", "need", "confidence"} (need is null unless find_service)."""

from __future__ import annotations

from typing import Any, Protocol

from bot.i18n import supported_language
from bot.language_detection import identified_language, written_language

NEED_PREFIX = "need_"
NOT_UNDERSTOOD = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"


class Parser(Protocol):
    async def parse_message(self, text: str) -> dict[str, Any]: ...


def contract_intent(parsed: dict[str, Any]) -> tuple[str, str | None, float]:
    """Rasa's parse -> (intent, need, confidence), as the bot acts on it: need_X is
    find_service with need X; below the fallback threshold the bot answers as to something
    out of scope ("I can only help you find support..."), so that is what is reported."""
    intent = parsed.get("intent") or {}
    name, confidence = intent.get("name") or OUT_OF_SCOPE, float(intent.get("confidence") or 0)
    if name == NOT_UNDERSTOOD:
        return OUT_OF_SCOPE, None, confidence
    if name.startswith(NEED_PREFIX):
        return "find_service", name.removeprefix(NEED_PREFIX), confidence
    return name, None, confidence


def message_language(parsed: dict[str, Any], hint: str | None = None) -> str:
    """Identified when the text is long enough to trust, else the hint, else the best guess."""
    return (written_language(parsed) or supported_language(hint)
            or identified_language(parsed)[0] or "en")


async def understand(parser: Parser, text: str, hint: str | None = None) -> dict[str, Any]:
    parsed = await parser.parse_message(text)
    intent, need, confidence = contract_intent(parsed)
    return {"text": text, "language": message_language(parsed, hint), "intent": intent,
            "need": need, "confidence": round(confidence, 4)}
