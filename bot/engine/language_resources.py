"""Per-language words the NLU components use: the emergency safety net and place words.

One file per language in dialogues/languages/<lang>.yml (see dialogues/languages/en.yml).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT

LANGUAGES_DIR = PROJECT_ROOT / "dialogues" / "languages"


@dataclass(frozen=True)
class LanguageResources:
    language: str
    emergency_patterns: tuple[re.Pattern[str], ...]
    # Danger that is also told of the past, a dream or therapy ("they locked me in",
    # "he has a knife"): these patterns stay quiet in a calm context (see safety_net).
    unless_calm_patterns: tuple[re.Pattern[str], ...]
    calm_context: re.Pattern[str] | None
    right_now: re.Pattern[str] | None
    place_prepositions: frozenset[str]
    place_fillers: frozenset[str]


def _strip_marks(pattern: str) -> str:
    """Patterns are written like the folded text they match; strip marks the same way (but do
    not casefold: that would turn \\W into \\w)."""
    decomposed = unicodedata.normalize("NFKD", pattern)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(_strip_marks(pattern), re.IGNORECASE)


def _load(path: Path) -> LanguageResources:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    calm, now = data.get("calm_context"), data.get("right_now")
    return LanguageResources(
        language=str(data.get("language") or path.stem),
        emergency_patterns=tuple(_compile(p) for p in data.get("emergency_patterns") or []),
        unless_calm_patterns=tuple(_compile(p) for p in
                                   data.get("emergency_patterns_unless_calm") or []),
        calm_context=_compile(calm) if calm else None,
        right_now=_compile(now) if now else None,
        place_prepositions=frozenset(str(w).casefold() for w in data.get("place_prepositions")
                                     or []),
        place_fillers=frozenset(str(w).casefold() for w in data.get("place_fillers") or []),
    )


@cache
def all_resources(directory: Path = LANGUAGES_DIR) -> dict[str, LanguageResources]:
    return {path.stem: _load(path) for path in sorted(directory.glob("*.yml"))}


ENGLISH = "en"  # mixed into messages in every language


def resources_for(languages: list[str] | None) -> list[LanguageResources]:
    """Those of these languages and English; of every language when the language is unknown."""
    everything = all_resources()
    if languages is None:
        return list(everything.values())
    return [everything[code] for code in dict.fromkeys([*languages, ENGLISH]) if code in everything]


@cache
def _place_words(languages: tuple[str, ...] | None) -> tuple[frozenset[str], frozenset[str]]:
    chosen = resources_for(None if languages is None else list(languages))
    return (frozenset().union(*(r.place_prepositions for r in chosen)),
            frozenset().union(*(r.place_fillers for r in chosen)))


def place_words(languages: list[str] | None = None) -> tuple[frozenset[str], frozenset[str]]:
    """(prepositions, fillers) of these languages: Portuguese "em" (in) is Vietnamese "em" (I)."""
    return _place_words(None if languages is None else tuple(languages))


@cache
def training_vocabulary() -> frozenset[str]:
    """Every word of the training examples: words people use in messages, which a place
    lookup must not take for a town of the same name ("casa", "hola", "tulong")."""
    from services_directory.places import normalize

    words: set[str] = set()
    for path in (PROJECT_ROOT / "dialogues" / "nlu").glob("*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                words.update(normalize(line.strip().removeprefix("- ")).split())
    return frozenset(words)
