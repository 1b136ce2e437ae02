"""Texts of the handoff desk: what survivors read (consent, queue, relay) and what
caseworkers read (cases, queue, relay), each in their own language, from the catalogs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.lists import format_list

from bot.input_text import relayed_text
from bot.render import (
    Button,
    Reply,
    Texts,
    isolate,
    main_menu_buttons,
    need_label,
    opening_hours,
)

Renderer = Callable[[dict[str, Any], Texts], Reply]


# --- survivors ------------------------------------------------------------------------------
def _availability(message: dict[str, Any], texts: Texts) -> list[str]:
    _ = texts.gettext
    if message.get("on_duty"):
        return [_("A caseworker is on duty now.")]
    lines = [_("No caseworker is on duty right now.")]
    for block in message.get("hours") or []:
        hours = opening_hours(block["hours"], texts)
        place = block["timezone"].rsplit("/", 1)[-1].replace("_", " ")  # "Los Angeles"
        lines.append(_("Usual hours: %(hours)s (%(timezone)s time)") % {
            "hours": isolate(hours or ""), "timezone": isolate(place)})
    return lines


def handoff_offer(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    lines = []
    if message.get("reason") == "not_understood":
        lines.append(_("I'm sorry, I don't understand you well. A person might help better."))
    organizations = format_list([isolate(o) for o in message.get("organizations") or []],
                                locale=texts.language)
    if organizations:
        lines.append(_("I can put you in touch with a caseworker from %(organizations)s: a real "
                       "person whose job is to help people in your situation.") % {
            "organizations": organizations})
    else:
        lines.append(_("I can put you in touch with a caseworker: a real person whose job is to "
                       "help people in your situation."))
    lines += ["", _("If you say yes:"),
              _("• the caseworker reads the messages you write here from now on"),
              _("• they do not see your name, your username or your phone number"),
              _("• you can stop at any time with /end"), ""]
    lines += _availability(message, texts)
    return Reply("\n".join(lines), (
        (Button(_("✅ Yes, connect me"), "handoff:yes"),),
        (Button(_("No, thanks"), "/main_menu"),),
    ))


def handoff_summary(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    lines = [_("So you don't have to explain again, I can show the caseworker this:")]
    if message.get("need"):
        lines.append(_("Looking for: %(need)s") % {"need": need_label(message["need"], _)})
    if message.get("area"):
        lines.append(_("Area: %(area)s") % {"area": isolate(message["area"])})
    lines.append(_("Nothing else. Do you want to share it?"))
    return Reply("\n".join(lines), (
        (Button(_("✅ Yes, share it"), "handoff:share"),),
        (Button(_("Don't share it"), "handoff:noshare"),),
        (Button(_("✖️ Cancel"), "handoff:cancel"),),
    ))


def handoff_queued(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    lines = [_("You are in the queue, number %(position)d.") % {"position": message["position"]}]
    if message.get("on_duty"):
        lines.append(_("A caseworker will write to you here as soon as they can."))
    else:
        lines += _availability(message, texts)
        lines.append(_("You can write your message here now. The next caseworker on duty will "
                       "read it."))
    numbers = format_list([f"<b>{isolate(n)}</b>" for n in message["numbers"]], style="or",
                          locale=texts.language)
    lines.append(_("If you are in danger while you wait, call %(numbers)s.") % {
        "numbers": numbers})
    if message.get("hotline_number"):
        lines.append(f"📞 {isolate(message['hotline_name'])}: "
                     f"<b>{isolate(message['hotline_number'])}</b>")
    return Reply("\n".join(lines), ((Button(_("✖️ Stop waiting"), "handoff:end"),),))


def handoff_relay(message: dict[str, Any], texts: Texts) -> Reply:
    label = texts.gettext("%(name)s (caseworker)") % {"name": isolate(message["name"])}
    return Reply(f"👤 <b>{label}</b>\n{relayed_text(message['text'])}")  # own line: no isolate


def _back_with_bot(first_line: Callable[[Callable[[str], str]], str]) -> Renderer:
    def render_back(message: dict[str, Any], texts: Texts) -> Reply:
        _ = texts.gettext
        text = "\n".join([first_line(_), _("You are back with Passage, the bot. What do you "
                                           "need?")])
        return Reply(text, main_menu_buttons(_))

    return render_back


def _end_button(text_of: Callable[[Callable[[str], str]], str]) -> Renderer:
    def render_with_end(message: dict[str, Any], texts: Texts) -> Reply:
        _ = texts.gettext
        return Reply(text_of(_) % {k: isolate(str(v)) for k, v in message.items()},
                     ((Button(_("✖️ End the chat"), "handoff:end"),),))

    return render_with_end


SURVIVOR_RENDERERS: dict[str, Renderer] = {
    "handoff_offer": handoff_offer,
    "handoff_summary": handoff_summary,
    "handoff_queued": handoff_queued,
    "handoff_relay": handoff_relay,
    "handoff_saved": lambda m, t: Reply(t.gettext(
        "Saved. The caseworker will read it when they open your chat.")),
    "handoff_claimed": _end_button(lambda _: _(
        "%(name)s, a caseworker, is here now. Write to them in this chat.")),
    "handoff_transferred": _end_button(lambda _: _(
        "Another caseworker, %(name)s, is taking over your chat. They can read what you "
        "wrote before.")),
    "handoff_released": _end_button(lambda _: _(
        "Your caseworker had to step away. You are back in the queue, and the next caseworker "
        "will read what you wrote.")),
    "handoff_in_case": _end_button(lambda _: _(
        "You are talking with a caseworker. Write here, or tap the button to go back to the "
        "bot.")),
    "handoff_text_only": _end_button(lambda _: _(
        "To keep you safe, I only pass on text messages to the caseworker. Please write what "
        "you want to say.")),
    "handoff_closed": _back_with_bot(lambda _: _("The caseworker has ended the chat. Take care.")),
    "handoff_ended": _back_with_bot(lambda _: _("You ended the chat with the caseworker.")),
}
