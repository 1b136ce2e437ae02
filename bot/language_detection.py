"""Which of Passage's languages a message is written in, offline (lingua, restricted to ours).

Only messages long enough to trust are judged: a short "ok" or "gracias" never switches the
conversation's language.
"""

from __future__ import annotations

from functools import cache

from lingua import Language, LanguageDetectorBuilder

from bot.i18n import SUPPORTED_LANGUAGES

MIN_WORDS = 3
MIN_CONFIDENCE = 0.6
_UNSPACED_MIN_CHARS = 4  # Chinese and Thai have no spaces: count characters instead
_BY_CODE = {language.iso_code_639_1.name.lower(): language for language in Language.all()}


@cache
def _detector():  # noqa: ANN202 - lingua's LanguageDetector
    languages = [_BY_CODE[code] for code in SUPPORTED_LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def long_enough(text: str) -> bool:
    words = text.split()
    if len(words) >= MIN_WORDS:
        return True
    letters = [ch for ch in text if ch.isalpha()]
    unspaced = sum(1 for ch in letters if "\u4e00" <= ch <= "\u9fff" or "\u0e00" <= ch <= "\u0e7f")
    return unspaced >= _UNSPACED_MIN_CHARS


def detect(text: str) -> tuple[str | None, float]:
    """(language, confidence) for any text; (None, 0.0) when nothing is recognised."""
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None, 0.0
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), float(best.value)


def confident_language(text: str) -> str | None:
    """The language of a message long enough to judge, when lingua is sure enough."""
    if not long_enough(text):
        return None
    language, confidence = detect(text)
    return language if confidence >= MIN_CONFIDENCE else None
