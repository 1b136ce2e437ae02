"""Texts of the safety features: what Passage keeps (/privacy), the safe word and its decoy,
and quick exit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.render import Reply, Texts, main_menu_buttons

Renderer = Callable[[dict[str, Any], Texts], Reply]


def _privacy(message: dict[str, Any], texts: Texts) -> Reply:
    _, n_ = texts.gettext, texts.ngettext
    days = int(message["days"])
    kept = n_("our conversation, encrypted, for %(days)d day after your last message",
              "our conversation, encrypted, for %(days)d days after your last message", days)
    relayed = n_("if you talk with a caseworker: your messages and theirs, encrypted, for "
                 "%(days)d day", "if you talk with a caseworker: your messages and theirs, "
                 "encrypted, for %(days)d days", days)
    return Reply("\n".join([
        _("What I keep about you:"),
        "• " + n_("the language you chose, and your safe word if you set one (scrambled), for "
                  "%(days)d day after your last message", "the language you chose, and your "
                  "safe word if you set one (scrambled), for %(days)d days after your last "
                  "message", days) % {"days": days},
        "• " + kept % {"days": days},
        "• " + relayed % {"days": days},
        _("I never keep your name, your username, your phone number or where you are exactly "
          "(only the area)."),
        _("/forget erases all of it now. /exit deletes this chat from your phone."),
        _("Messages already delivered to a caseworker stay in their Telegram chat: /forget "
          "cannot erase them from there."),
    ]), main_menu_buttons(_))


def _safe_word(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    if message.get("set"):
        return Reply("\n".join([
            _("Your safe word is saved. I deleted your message with it."),
            _("If you send it, I will answer with a recipe, as if this were a cooking chat."),
            _("If you are talking with a caseworker, they will know you may not be safe."),
        ]), delete_incoming=True)
    return Reply("\n".join([
        _("A safe word makes me answer with a recipe, so the chat looks harmless if someone "
          "is watching."),
        _("To choose one, send /safeword and your word, for example: /safeword mango"),
    ]))


def _decoy(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    return Reply("\n".join([
        _("🍚 Simple rice"),
        _("Wash one cup of rice. Add two cups of water and a pinch of salt. Boil, then cover "
          "and cook on low heat for 15 minutes."),
    ]))


SAFETY_RENDERERS: dict[str, Renderer] = {
    "privacy": _privacy,
    "safe_word": _safe_word,
    "decoy": _decoy,
    # Quick exit: the chat is wiped; what stays on screen is this one harmless line.
    "quick_exit": lambda m, t: Reply("👍", wipe_chat=True),
}
