"""Rendering: every message, in every language, is something Telegram accepts and people read.

The checks of one message (or one catalogue) in one language are marked `catalogue`: the run's
summary counts them apart from the behaviour tests (tests/conftest.py)."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, SUPPORTED_LANGUAGES
from bot.render import RENDERERS, render
from tests.fake_bot_api import check_markup, check_text
from tests.telegram_markup import markup_of

SERVICE = {
    "service_id": "s1", "name": "Casa <Alba> & Co", "organization": "Fundación",
    "needs": ["shelter"],
    "confidential": False, "distance_km": 1.4, "distance_band": [1, 2], "phone": "+34 91 000 0017",
    "address": "Calle 1", "languages": ["es"], "hours": [
        {"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}],
    "last_verified": "2026-01-12", "phone_only": False,
}
SECRET = {**SERVICE, "name": "Casa Secreta", "confidential": True, "distance_km": None,
          "address": None, "hours": [{"days": list(range(7)), "opens": "00:00", "closes": "23:59"}]}
LINE = {**SERVICE, "name": "Línea 24h", "phone_only": True, "distance_km": None,
        "distance_band": None, "address": None, "hours": []}
PAYLOADS = {
    "results": {"need": "shelter", "place": "Madrid", "services": [SERVICE, SECRET, LINE]},
    "no_results": {"need": "legal", "place": None, "services": []},
    "emergency": {"country": "US", "numbers": ["911"], "hotline_name": "Hotline",
                  "hotline_number": "1-888-373-7888"},
    "ask_need": {"place": "Madrid"},
}
HOURS = [{"organization": "Org", "timezone": "America/Los_Angeles",
          "hours": [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}]}]
CARD = {"case": 7, "language": "ar", "need": "legal", "area": "London", "urgent": True,
        "waiting_min": 12, "shared": True}
OPENED = {**CARD, "status": "claimed", "by": "Maria", "history": [
    {"author": "survivor", "text": "hi <there>"}, {"author": "note", "text": "n"},
    {"author": "caseworker", "text": "c"}]}
PAYLOADS.update({
    "handoff_offer": {"reason": "not_understood", "organizations": ["Org <A>"],
                      "on_duty": False, "hours": HOURS},
    "handoff_summary": {"need": "shelter", "area": "Madrid"},
    "handoff_queued": {"position": 2, "on_duty": False, "numbers": ["112", "999"],
                       "hotline_name": "Helpline", "hotline_number": "0800", "hours": HOURS},
    "handoff_relay": {"name": "Maria", "text": "hola <b>"},
    "handoff_claimed": {"name": "Maria"},
    "handoff_transferred": {"name": "Sam"},
    "desk_new_case": CARD,
    "desk_escalation": CARD,
    "desk_claimed": OPENED,
    "desk_case": OPENED,
    "desk_transferred_in": OPENED,
    "desk_queue": {"cases": [CARD], "claimed": [{**CARD, "by": "Maria"}]},
    "desk_cases": {"cases": [CARD], "active": 7},
    "desk_transfer_choose": {"case": 7, "colleagues": [{"id": 2, "name": "Sam"}],
                             "unknown": True},
    "desk_duty": {"on": True},
    "desk_help": {"supervisor": True},
    "desk_roster": {"members": [{"id": 1, "name": "Maria", "languages": ["es"],
                                 "role": "admin", "on_duty": True}]},
    "desk_relay": {"case": 7, "text": "x", "urgent": True},
    "desk_reminder": {"case": 7, "idle_min": 20},
    "desk_urgent": {"case": 7, "text": "help"},
    "desk_case_taken": {"case": 7, "by": "Maria"},
    "desk_claim_lost": {"case": 7, "by": "Maria"},
    "desk_transferred_out": {"case": 7, "to": "Sam", "pen": None},
    "desk_transferred_away": {"case": 7, "by": "Maria", "to": "Sam", "pen": 3},
    "desk_closed_by": {"case": 7, "by": "Maria", "pen": None},
    "desk_unknown_case": {"case": "99"},
    "desk_case_expired": {"case": 7, "days": 31},
    "privacy": {"days": 30},
    "safe_word": {"set": True},
    **{key: {"case": 7} for key in (
        "desk_survivor_exited", "desk_safe_word", "desk_case_gone", "desk_survivor_left",
        "desk_erased", "desk_note_saved", "desk_released", "desk_closed")},
})


def all_messages():
    for key in RENDERERS:
        for language in SUPPORTED_LANGUAGES:
            yield key, language


@pytest.mark.catalogue
@pytest.mark.parametrize(("key", "language"), list(all_messages()))
def test_every_message_is_valid_telegram_html_with_valid_buttons(key, language):
    reply = render({"message": key, **PAYLOADS.get(key, {})}, language)
    check_text({"text": reply.text, "parse_mode": "HTML"})
    markup = markup_of(reply)
    if markup is not None:
        check_markup(markup)


def test_results_show_bands_and_hide_confidential_places():
    text = render({"message": "results", **PAYLOADS["results"]}, "en").text
    assert "Casa &lt;Alba&gt; &amp; Co" in text  # directory values are escaped
    assert "1–2 km away" in text and "1.4" not in text
    secret = text.split("Casa Secreta")[1].split("Línea 24h")[0]
    assert "km" not in secret and "kept secret" in secret
    assert "Open 24 hours" in text and "Mon–Fri 09:00–17:00" in text


def test_emergency_numbers_lead_the_message():
    reply = render({"message": "emergency", **PAYLOADS["emergency"]}, "es")
    assert reply.text.startswith("🆘") and reply.text.index("911") < 80


def _catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)[sd]", text))


@pytest.mark.catalogue
@pytest.mark.parametrize("language", [lang for lang in SUPPORTED_LANGUAGES if lang != "en"])
def test_catalog_is_complete_and_keeps_placeholders(language):
    template = _catalog(LOCALES_DIR / "messages.pot")
    catalog = _catalog(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po")
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        assert translated is not None, f"{language}: missing {message.id!r}"
        assert not translated.fuzzy, f"{language}: fuzzy {message.id!r}"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = translated.string if isinstance(translated.string, tuple) else (
            translated.string,)
        assert all(strings), f"{language}: untranslated {message.id!r}"
        for string in strings:
            assert _placeholders(string) == _placeholders(ids[-1]), (language, message.id)


def test_template_lists_every_text_in_the_code():
    """`make extract` was run after the last change to a user-visible text."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    root = Path(__file__).resolve().parent.parent
    in_code = {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for package in ("bot", "services_directory")
        for msg in extract_from_dir(root / package, keywords={**DEFAULT_KEYWORDS, "n_": (1, 2)})
    }
    template = _catalog(LOCALES_DIR / "messages.pot")
    in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert in_code == in_template


def test_the_per_language_checks_are_counted_apart_from_behaviour_tests(pytester, monkeypatch):
    """The summary line says how many behaviour tests ran; pytest's own line stays last."""
    import os

    from bot.settings import PROJECT_ROOT

    for check in (test_every_message_is_valid_telegram_html_with_valid_buttons,
                  test_catalog_is_complete_and_keeps_placeholders):
        assert "catalogue" in {mark.name for mark in check.pytestmark}
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makeconftest("from tests.conftest import pytest_configure, pytest_terminal_summary"
                          "  # noqa: F401\n")
    pytester.makepyfile("""
        import pytest

        @pytest.mark.catalogue
        @pytest.mark.parametrize("language", ["en", "es", "fr"])
        def test_check(language):
            assert language != "fr"

        def test_behaviour():
            pass
    """)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--strict-markers")
    assert "behaviour tests: 1 passed; catalogue checks: 2 passed, 1 failed" in result.outlines
    assert result.outlines[-1].startswith("1 failed, 3 passed in ")  # what CI reads
