"""Which of Passage's languages a message is written in, as far as it can be trusted.

The NLU's LanguageIdentifier names a language for every message; only messages long enough
to judge count, so a short "ok" or "gracias" never switches the conversation's language.
"""

from __future__ import annotations

from typing import Any

MIN_WORDS = 3
MIN_CONFIDENCE = 0.6
# A message the NLU did not understand (typos, gibberish) is weak evidence of its language.
MIN_CONFIDENCE_NOT_UNDERSTOOD = 0.9
NOT_UNDERSTOOD = ("nlu_fallback", "out_of_scope")
_UNSPACED_MIN_CHARS = 4  # Chinese and Thai have no spaces: count characters instead


def long_enough(text: str) -> bool:
    if len(text.split()) >= MIN_WORDS:
        return True
    unspaced = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u0e00" <= ch <= "\u0e7f")
    return unspaced >= _UNSPACED_MIN_CHARS


def identified_language(parsed: dict[str, Any]) -> tuple[str | None, float]:
    language = parsed.get("language") or {}
    return language.get("name"), float(language.get("confidence") or 0.0)


def written_language(parsed: dict[str, Any]) -> str | None:
    """The language of a parsed message long enough to judge, when the identifier is sure."""
    language, confidence = identified_language(parsed)
    understood = (parsed.get("intent") or {}).get("name") not in NOT_UNDERSTOOD
    needed = MIN_CONFIDENCE if understood else MIN_CONFIDENCE_NOT_UNDERSTOOD
    if not long_enough(parsed.get("text") or "") or confidence < needed:
        return None
    return language
