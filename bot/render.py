"""Turn what the dialogue decided ({"message": key, ...}) into text and buttons.

Every word a person reads comes from the gettext catalogs in locales/; the msgids below are
the English texts. Values from the directory are escaped: replies are Telegram HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from babel.dates import format_date, get_day_names
from babel.lists import format_list

from bot.i18n import RTL_LANGUAGES, SUPPORTED_LANGUAGES, autonym, translations
from bot.input_text import shown_value

# Unicode bidi controls: a right-to-left message must start with a strong RTL character, and
# values such as phone numbers or Latin-script names are isolated so they keep their order.
RIGHT_TO_LEFT_MARK = "\u200f"
FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def isolate(value: str) -> str:
    """A value from outside the catalogs: cleaned, HTML-escaped and bidi-isolated."""
    return f"{FIRST_STRONG_ISOLATE}{shown_value(value)}{POP_DIRECTIONAL_ISOLATE}"


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # callback data: a dialogue payload ("/need_shelter") or a setting ("lang:es")


@dataclass(frozen=True)
class Reply:
    text: str  # Telegram HTML
    buttons: tuple[tuple[Button, ...], ...] = ()
    # When set, the reply offers a one-tap "share my location" keyboard with this label...
    location_button: str | None = None
    # ... and a quick-exit key under it with this label.
    exit_button: str | None = None
    # Quick exit: delete every message of the chat Telegram allows, then send this text with
    # any keyboard removed.
    wipe_chat: bool = False
    # Delete the person's message this answers (it held their safe word).
    delete_incoming: bool = False


class Texts:
    """The gettext functions of one language, plus the language code for Babel formats."""

    def __init__(self, language: str) -> None:
        catalog = translations(language)
        self.language = language
        self.gettext = catalog.gettext
        self.ngettext = catalog.ngettext


def need_label(need: str, _: Callable[[str], str]) -> str:
    """A need as it reads inside a sentence."""
    return {
        "shelter": _("shelter"),
        "legal": _("legal help"),
        "immigration": _("immigration help"),
        "medical": _("medical care"),
        "counseling": _("someone to talk to"),
        "basic_needs": _("food and clothes"),
        "work": _("safe work"),
        "return_home": _("going home"),
        "hotline": _("a helpline"),
    }.get(need, need)


def main_menu_buttons(_: Callable[[str], str]) -> tuple[tuple[Button, ...], ...]:
    return (
        (Button(_("🆘 I'm in danger now"), "/emergency"),),
        (Button(_("🔎 Find help near me"), "/find_service"),),
        (Button(_("🙋 Talk to a person"), "/talk_to_human"),),
        (Button(_("🌐 Language"), "/change_language"),),
        (Button(_("🚪 Exit"), "exit"),),
    )


def _need_buttons(_: Callable[[str], str]) -> tuple[tuple[Button, ...], ...]:
    buttons = [
        Button(_("🏠 A safe place to stay"), "/need_shelter"),
        Button(_("⚖️ Legal help"), "/need_legal"),
        Button(_("🛂 Immigration help"), "/need_immigration"),
        Button(_("🩺 A doctor or clinic"), "/need_medical"),
        Button(_("💬 Someone to talk to"), "/need_counseling"),
        Button(_("🍲 Food and clothes"), "/need_basic_needs"),
        Button(_("🛠 Safe work"), "/need_work"),
        Button(_("✈️ Going home"), "/need_return_home"),
        Button(_("📞 A helpline"), "/need_hotline"),
    ]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    return (*rows, (Button(_("↩️ Menu"), "/main_menu"),))


def opening_hours(hours: list[dict[str, Any]], texts: Texts) -> str | None:
    _ = texts.gettext
    if not hours:
        return None
    if any(len(h["days"]) == 7 and h["opens"] == "00:00" and h["closes"] >= "23:59"
           for h in hours):
        return _("Open 24 hours")
    day_names = get_day_names("abbreviated", locale=texts.language)
    parts = []
    for h in hours:
        days = sorted(h["days"])
        if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            span = f"{day_names[days[0]]}–{day_names[days[-1]]}"
        else:
            span = ", ".join(day_names[d] for d in days)
        parts.append(f"{span} {h['opens']}–{h['closes']}")
    return "; ".join(parts)


def _distance(service: dict[str, Any], _: Callable[[str], str]) -> str:
    if service["confidential"]:
        return _("🔒 The address is kept secret to keep people safe. Call to ask how to get there.")
    if service["phone_only"]:
        return _("📞 A phone line for this area")
    band = service["distance_band"]
    if band is None:
        return ""
    low, high = (f"{value:g}" for value in band)
    if band[0] == 0:
        return _("📍 Less than %(high)s km away") % {"high": high}
    return _("📍 %(low)s–%(high)s km away") % {"low": low, "high": high}


def _service(index: int, service: dict[str, Any], texts: Texts) -> str:
    _ = texts.gettext
    lines = [f"<b>{index}. {isolate(service['name'])}</b>"]
    if service["organization"] and service["organization"] != service["name"]:
        lines.append(isolate(service["organization"]))
    if service["phone"]:
        lines.append(f"📞 {isolate(service['phone'])}")
    lines.append(_distance(service, _))
    hours = opening_hours(service["hours"], texts)
    always_open = hours == _("Open 24 hours")
    open_now = None if always_open else {True: _("Open now"), False: _("Closed now")}.get(
        service.get("open_now"))
    if hours or open_now:
        lines.append("🕒 " + " · ".join(isolate(p) for p in (open_now, hours) if p))
    if service.get("free"):
        lines.append(_("Free of charge"))
    if service["last_verified"]:
        verified = date.fromisoformat(service["last_verified"])
        checked = format_date(verified, "medium", locale=texts.language)
        lines.append(_("✔️ Checked on %(date)s") % {"date": checked})
    return "\n".join(line for line in lines if line)


def render_results(message: dict[str, Any], texts: Texts) -> Reply:
    _, n_ = texts.gettext, texts.ngettext
    services = message["services"]
    values = {"count": len(services), "need": need_label(message["need"], _),
              "place": isolate(message.get("place") or "")}
    if message.get("place"):
        header = n_("I found %(count)d place for %(need)s near %(place)s:",
                    "I found %(count)d places for %(need)s near %(place)s:", len(services))
    else:
        header = n_("I found %(count)d place for %(need)s near you:",
                    "I found %(count)d places for %(need)s near you:", len(services))
    body = "\n\n".join(_service(i, s, texts) for i, s in enumerate(services, start=1))
    buttons = (
        (Button(_("🔎 Other kinds of help"), "/find_service"),),
        (Button(_("🙋 Talk to a person"), "/talk_to_human"),),
        (Button(_("↩️ Menu"), "/main_menu"),),
    )
    return Reply(f"{header % values}\n\n{body}", buttons)


def render_no_results(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    values = {"need": need_label(message["need"], _), "place": isolate(message.get("place") or "")}
    if message.get("place"):
        text = _("I could not find %(need)s near %(place)s in my list.") % values
    else:
        text = _("I could not find %(need)s near you in my list.") % values
    text += "\n" + _("You can look for another kind of help, or call a helpline.")
    buttons = (
        (Button(_("📞 A helpline"), "/need_hotline"),),
        (Button(_("🔎 Other kinds of help"), "/find_service"),),
        (Button(_("↩️ Menu"), "/main_menu"),),
    )
    return Reply(text, buttons)


def render_emergency(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    numbers = format_list([f"<b>{isolate(n)}</b>" for n in message["numbers"]], style="or",
                          locale=texts.language)
    if message.get("country"):
        lines = [_("🆘 If you are in danger now, call %(numbers)s.") % {"numbers": numbers}]
    else:
        lines = [
            _("🆘 If you are in danger now, call your local emergency number."),
            _("%(numbers)s works from mobile phones in many countries.") % {"numbers": numbers},
        ]
    if message.get("hotline_number"):
        name, number = isolate(message["hotline_name"]), isolate(message["hotline_number"])
        lines.append(f"📞 {name}: <b>{number}</b>")
    lines.append(_("If you can, go to a place where there are other people."))
    buttons = (
        (Button(_("🏠 A safe place to stay"), "/need_shelter"),),
        (Button(_("🙋 Talk to a person"), "/talk_to_human"),),
        (Button(_("↩️ Menu"), "/main_menu"),),
    )
    return Reply("\n".join(lines), buttons)


def _ask_location(_: Callable[[str], str], first_line: str) -> Reply:
    text = first_line + "\n" + _(
        "Tap the button below to share your location, or type the name of your city."
    ) + "\n" + _("I only use it to find places near you.")
    return Reply(text, location_button=_("📍 Share my location"), exit_button=_("🚪 Exit"))


def _simple(text_of: Callable[[Callable[[str], str]], str], menu: bool = True
            ) -> Callable[[dict[str, Any], Texts], Reply]:
    def render_simple(message: dict[str, Any], texts: Texts) -> Reply:
        return Reply(text_of(texts.gettext), main_menu_buttons(texts.gettext) if menu else ())

    return render_simple


def _welcome(_: Callable[[str], str]) -> str:
    return "\n\n".join([
        _("Hello. I'm Passage, a bot, not a person. I can help you find safe places and "
          "people who help, near you."),
        _("🔒 Anyone who uses this phone can read this chat. You can delete it at any time."),
        _("What do you need?"),
    ])


def _help(_: Callable[[str], str]) -> str:
    return "\n".join([
        _("I'm Passage, a bot. I can:"),
        _("• find shelters, legal help, doctors and other services near you"),
        _("• give you emergency numbers"),
        "",
        _("Tell me what you need in your own words, or use the buttons. "
          "I never need your name or your documents."),
        "",
        _("🚪 /exit deletes this chat from your phone at once."),
        _("🔒 /privacy says what I keep and for how long. /forget erases it."),
        _("🤫 /safeword lets you choose a word that makes me answer with a recipe."),
    ])


def _ask_need(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    if message.get("place"):
        text = _("What kind of help are you looking for near %(place)s?") % {
            "place": isolate(message["place"])}
    else:
        text = _("What kind of help are you looking for?")
    return Reply(text, _need_buttons(_))


def _choose_language(message: dict[str, Any], texts: Texts) -> Reply:
    choices = [Button(autonym(code), f"lang:{code}") for code in SUPPORTED_LANGUAGES]
    buttons = tuple(tuple(choices[i : i + 2]) for i in range(0, len(choices), 2))
    return Reply(texts.gettext("Choose your language:"), buttons)


def _confirm_forget(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    return Reply(
        _("Do you want me to erase everything I keep about you? This cannot be undone."),
        ((Button(_("🗑 Yes, erase it"), "forget:yes"),),
         (Button(_("No, keep it"), "/main_menu"),)),
    )


def _talk_to_human(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    text = "\n".join([
        _("I'm a bot, not a person. I can't connect you to a caseworker in this chat yet."),
        _("A helpline can talk with you now. The people there help others in your "
          "situation every day."),
    ])
    return Reply(text, (
        (Button(_("📞 Find a helpline near me"), "/need_hotline"),),
        (Button(_("🆘 I'm in danger now"), "/emergency"),),
        (Button(_("↩️ Menu"), "/main_menu"),),
    ))


RENDERERS: dict[str, Callable[[dict[str, Any], Texts], Reply]] = {
    "welcome": _simple(_welcome),
    "main_menu": _simple(lambda _: _("What do you need?")),
    "ask_need": _ask_need,
    "ask_location": lambda m, t: _ask_location(t.gettext, t.gettext("Where are you?")),
    "unknown_place": lambda m, t: _ask_location(
        t.gettext, t.gettext("I don't know that place.")),
    "results": render_results,
    "no_results": render_no_results,
    "emergency": render_emergency,
    "talk_to_human": _talk_to_human,
    "help": _simple(_help),
    "choose_language": _choose_language,
    "language_changed": _simple(lambda _: _("OK, I will write in English.")),
    "language_switched": lambda m, t: Reply(t.gettext(
        "I'll write in %(language)s. To change the language, send /language.") % {
        "language": autonym(t.language)}),
    "confirm_forget": _confirm_forget,
    "forgotten": lambda m, t: Reply(t.gettext(  # and the chat goes from their phone too
        "Done. I erased everything I kept about you. If you write again, I will start fresh."),
        wipe_chat=True),
    "goodbye": _simple(lambda _: _("Take care. You can write to me at any time."), menu=False),
    "you_are_welcome": _simple(lambda _: _("You're welcome. I'm here if you need anything else.")),
    "out_of_scope": _simple(lambda _: _(
        "I can only help you find support and safe places. What do you need?")),
    "not_understood": _simple(lambda _: _(
        "Sorry, I didn't understand. Tell me what you need in a few words, or use the buttons.")),
    "unsupported_content": _simple(lambda _: _(
        "I can only read text messages and shared locations.")),
    "slow_down": _simple(lambda _: _(
        "You're writing faster than I can read. I'll answer again in a moment."), menu=False),
}


def render(message: dict[str, Any], language: str) -> Reply:
    renderer = RENDERERS.get(message.get("message", ""), RENDERERS["not_understood"])
    reply = renderer(message, Texts(language))
    if language in RTL_LANGUAGES:
        return replace(reply, text=RIGHT_TO_LEFT_MARK + reply.text)
    return reply


# The desk's and the safety features' texts live in their own modules, built on the helpers
# above.
from bot.render_caseworker import CASEWORKER_RENDERERS  # noqa: E402
from bot.render_desk import SURVIVOR_RENDERERS  # noqa: E402
from bot.render_safety import SAFETY_RENDERERS  # noqa: E402

RENDERERS.update(SURVIVOR_RENDERERS)
RENDERERS.update(CASEWORKER_RENDERERS)
RENDERERS.update(SAFETY_RENDERERS)
