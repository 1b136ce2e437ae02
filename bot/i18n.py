"""Languages and gettext catalogs (locales/<lang>/LC_MESSAGES/messages.mo)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from babel.support import NullTranslations, Translations

from bot.settings import PROJECT_ROOT

LOCALES_DIR = PROJECT_ROOT / "locales"
SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "pt", "ru", "uk", "ar", "zh", "vi", "tl", "th", "ro")
RTL_LANGUAGES = frozenset({"ar"})
DEFAULT_LANGUAGE = "en"

Gettext = Callable[[str], str]


def supported_language(code: str | None) -> str | None:
    """'es-MX' -> 'es'; None when Passage does not speak it."""
    base = (code or "").replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED_LANGUAGES else None


def conversation_language(chosen: str | None, telegram_code: str | None) -> str:
    """The person's own choice first, then their Telegram app's language, then English."""
    return supported_language(chosen) or supported_language(telegram_code) or DEFAULT_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()  # msgids are the English texts
    return Translations.load(str(LOCALES_DIR), [language], domain="messages")


# Each language's name in that language: people look for their own.
AUTONYMS = {
    "en": "English", "es": "Español", "fr": "Français", "pt": "Português", "ru": "Русский",
    "uk": "Українська", "ar": "العربية", "zh": "中文", "vi": "Tiếng Việt", "tl": "Tagalog",
    "th": "ไทย", "ro": "Română",
}


def autonym(language: str) -> str:
    return AUTONYMS[language]
