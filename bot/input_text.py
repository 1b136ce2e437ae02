"""Text from outside Passage, cleaned in one place: what people type before it is understood,
and values echoed back (place and directory names, relayed messages) before they are shown.

Zero-width characters and bidi controls are invisible. In what someone types they only hide
words from the NLU ("he\u200blp"); in a value shown back, an override or an unmatched isolate
could flip the order of the rest of the line ("call \u202e911" read backwards). They are
removed, together with control characters other than line breaks and tabs.
"""

from __future__ import annotations

import re
from html import escape

# U+200B-U+200F zero-width space/(non-)joiner, LRM, RLM; U+202A-U+202E embeddings and
# overrides; U+2066-U+2069 isolates; U+FEFF zero-width no-break space (BOM).
INVISIBLE_CONTROLS = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TELEGRAM_TEXT_UNITS = 4096  # Telegram's limit for one message, in UTF-16 code units


def without_controls(text: str) -> str:
    """The text with zero-width, bidi-control and control characters removed."""
    return INVISIBLE_CONTROLS.sub("", text)


def incoming_text(text: str) -> str:
    """What someone wrote, as the engine and the desk should read it."""
    return without_controls(text).strip()


def shown_value(value: str) -> str:
    """A value from outside the catalogs, ready for a Telegram HTML reply: no bidi controls
    (so it cannot reorder the line it sits in) and HTML-escaped (so it cannot add markup)."""
    return escape(without_controls(value))


def fit_units(text: str, units: int) -> str:
    """The longest start of ``text`` that is at most ``units`` UTF-16 code units long (the
    way Telegram measures), cut between characters, with "…" when anything was cut."""
    if utf16_units(text) <= units:
        return text
    kept, used = [], 1  # room for the ellipsis
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            break
        kept.append(char)
    return "".join(kept) + "…"


RELAYED_TEXT_UNITS = 3800  # a relayed message, with room for the line that labels it


def relayed_text(text: str) -> str:
    """A message relayed between a survivor and a caseworker, on its own line of a reply."""
    return shown_value(fit_units(text, RELAYED_TEXT_UNITS))


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
