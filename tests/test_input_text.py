"""Input hygiene: invisible controls are removed from what people type and from every value
shown back; relayed texts are escaped and always fit in one Telegram message."""

import pytest

from bot.input_text import fit_units, incoming_text, shown_value, utf16_units
from bot.render import FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE, isolate, render
from tests.telegram_rules import check_text

CONTROLS = ("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
            "\u2066\u2067\u2068\u2069\ufeff")


def test_typed_text_loses_zero_width_and_bidi_controls():
    assert incoming_text(f" he{CONTROLS}lp\x00 \n") == "help"
    assert incoming_text("línea 1\nlínea 2\tتمام") == "línea 1\nlínea 2\tتمام"


def test_an_echoed_value_cannot_reorder_the_line_or_add_markup():
    value = "Casa\u202e\u2069 <b>x</b> & \u2066y"
    shown = isolate(value)
    inner = shown[1:-1]
    assert shown[0] == FIRST_STRONG_ISOLATE and shown[-1] == POP_DIRECTIONAL_ISOLATE
    assert not set(CONTROLS) & set(inner)
    assert inner == "Casa &lt;b&gt;x&lt;/b&gt; &amp; y" == shown_value(value)


@pytest.mark.parametrize("key", ["desk_relay", "handoff_relay", "desk_urgent"])
@pytest.mark.parametrize("text", [
    "hi \u202e<b>evil</b> &amp; <a href='x'>",
    "x" * 4096,
    "😀" * 2048,  # 4096 UTF-16 units
    "<" * 4096,
])
def test_relayed_texts_are_clean_escaped_and_fit(key, text):
    reply = render({"message": key, "case": 7, "name": "Maria", "text": text,
                    "urgent": True}, "ar")
    shown, entities = check_text({"text": reply.text, "parse_mode": "HTML"})  # Telegram accepts
    assert "\u202e" not in shown and "evil</b>" not in reply.text
    assert not any(e["type"] == "text_link" for e in entities or [])


@pytest.mark.parametrize("key", ["desk_case", "desk_claimed"])
def test_a_long_case_history_shows_the_newest_messages_that_fit(key):
    history = [{"author": a, "text": f"{n} " + "ب" * 999}
               for n, a in enumerate(["survivor", "caseworker", "note"] * 10)]
    reply = render({"message": key, "case": 7, "language": "ar", "status": "claimed",
                    "by": "Maria", "history": history, "shared": True}, "en")
    shown, _ = check_text({"text": reply.text, "parse_mode": "HTML"})
    assert FIRST_STRONG_ISOLATE + "29 " in shown and "…" in shown
    assert FIRST_STRONG_ISOLATE + "0 " not in shown


def test_fit_units_counts_like_telegram():
    assert fit_units("abc", 3) == "abc"
    cut = fit_units("😀" * 10, 7)
    assert cut == "😀" * 3 + "…" and utf16_units(cut) == 7
