"""Texts caseworkers read at the desk, in their own language, from the catalogs. Cards never
name the survivor: a case number, language, need, coarse area and waiting time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.i18n import SUPPORTED_LANGUAGES, autonym
from bot.input_text import fit_units, relayed_text, utf16_units
from bot.render import Button, Reply, Texts, isolate, need_label

Renderer = Callable[[dict[str, Any], Texts], Reply]


def _minutes(count: int, texts: Texts) -> str:
    return texts.ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}


def case_card(card: dict[str, Any], texts: Texts) -> str:
    _ = texts.gettext
    language = card["language"]
    parts = [autonym(language) if language in SUPPORTED_LANGUAGES else language]
    if card.get("need"):
        parts.append(need_label(card["need"], _))
    if card.get("area"):
        parts.append(isolate(card["area"]))
    if card.get("waiting_min") is not None and card.get("status", "waiting") == "waiting":
        parts.append(_("waiting %(time)s") % {"time": _minutes(card["waiting_min"], texts)})
    line = f"<b>#{card['case']}</b> · " + " · ".join(parts)
    if card.get("urgent"):
        line = "⚠️ " + line + " · " + _("may be in danger")
    if not card.get("shared"):
        line += "\n" + _("(no summary shared)")
    return line


def _claim_button(case: int, texts: Texts) -> tuple[Button, ...]:
    return (Button(texts.gettext("Claim #%(case)d") % {"case": case}, f"desk:claim:{case}"),)


def new_case(message: dict[str, Any], texts: Texts) -> Reply:
    text = "🆕 " + texts.gettext("New case") + "\n" + case_card(message, texts)
    return Reply(text, (_claim_button(message["case"], texts),))


def escalation(message: dict[str, Any], texts: Texts) -> Reply:
    text = "⏰ " + texts.gettext("Nobody has taken this case yet:") + "\n" + case_card(
        message, texts)
    return Reply(text, (_claim_button(message["case"], texts),))


def opened_case(title: Callable[[Callable[[str], str]], str]) -> Renderer:
    def render_case(message: dict[str, Any], texts: Texts) -> Reply:
        _ = texts.gettext
        lines = [title(_) % {"case": message["case"], "name": isolate(message.get("by") or "")},
                 case_card(message, texts)]
        if message.get("close_reason") == "erased":
            lines.append(_("The survivor erased this case."))
        elif message.get("status") == "closed":
            lines.append(_("This case is closed."))
        labels = {"survivor": "👤 " + _("Person"), "caseworker": "🙋 " + _("Caseworker"),
                  "note": "📝 " + _("Note")}
        lines += _recent_history(message.get("history") or [], labels)
        if message.get("status") == "claimed":
            lines += ["", *_where_messages_go(message, texts)]
        return Reply("\n".join(lines))

    return render_case


def _where_messages_go(message: dict[str, Any], texts: Texts) -> list[str]:
    """Under an open case: whether what they type now goes to it, and if not, where."""
    _ = texts.gettext
    case = message["case"]
    if message.get("pen") == case:
        return [_("What you write here now goes to this person. /note TEXT keeps a private "
                  "note, /release puts the case back in the queue, /close ends the chat.")]
    lines = []
    if message.get("mine"):
        lines.append(_("Case #%(case)d is now yours — /case %(case)d to write there.") % {
            "case": case})
    return [*lines, pen_line(message.get("pen"), texts)]


def pen_line(pen: int | None, texts: Texts) -> str:
    """Where a caseworker's typed messages go now; said whenever that may have changed."""
    if pen is None:
        return "✍️ " + texts.gettext("Your messages go to no one until you choose a case: "
                                     "/cases")
    return "✍️ " + texts.gettext("Your messages still go to case #%(pen)d.") % {"pen": pen}


HISTORY_UNITS = 2800  # a case card's history, newest first, within one Telegram message
HISTORY_ITEM_UNITS = 600


def _recent_history(history: list[dict[str, Any]], labels: dict[str, str]) -> list[str]:
    """The newest messages of a case that fit in one message; "…" where older ones were."""
    lines: list[str] = []
    room = HISTORY_UNITS
    for item in reversed(history):
        text = fit_units(item["text"], HISTORY_ITEM_UNITS)
        room -= utf16_units(labels[item["author"]] + text) + 6
        if room < 0:
            lines.append("…")
            break
        lines.append(f"{labels[item['author']]}: {isolate(text)}")
    return lines[::-1]


QUEUE_UNITS, WITH_CASEWORKERS_UNITS = 2600, 1000  # together well within Telegram's 4096


def queue(message: dict[str, Any], texts: Texts) -> Reply:
    """The first waiting cases as they will be taken, then "… and K more": one message, however
    long the queue (the desk gives at most the first few and the count)."""
    _ = texts.gettext
    waiting = message["cases"]
    total = message.get("waiting", len(waiting))
    lines = [_("Waiting: %(count)d") % {"count": total}] if total else [_("Nobody is waiting.")]
    listed = _fitting([case_card(card, texts) for card in waiting], total, QUEUE_UNITS, texts)
    lines += listed
    if message.get("claimed"):
        lines += ["", _("With caseworkers:")]
        lines += _fitting([f"<b>#{c['case']}</b> · {isolate(c.get('by') or '?')}"
                           for c in message["claimed"]],
                          message.get("claimed_total", len(message["claimed"])),
                          WITH_CASEWORKERS_UNITS, texts)
    shown = waiting[:min(8, len(listed))]
    return Reply("\n".join(lines), tuple(_claim_button(c["case"], texts) for c in shown))


def _fitting(items: list[str], total: int, room: int, texts: Texts) -> list[str]:
    """The first items that fit in `room` UTF-16 units, then "… and K more" for the rest of
    the `total`."""
    kept: list[str] = []
    for item in items:
        room -= utf16_units(item) + 1
        if room < 0:
            break
        kept.append(item)
    if (more := total - len(kept)) > 0:
        kept.append(texts.ngettext("… and %(count)d more case", "… and %(count)d more cases",
                                   more) % {"count": more})
    return kept


def my_cases(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    if not message["cases"]:
        return Reply(_("You have no open cases. /queue shows who is waiting."))
    lines = [_("Your open cases (tap one to write in it):")]
    lines += [case_card({**c, "status": "claimed"}, texts) for c in message["cases"]]
    buttons = tuple((Button(("▶️ " if c["case"] == message.get("active") else "")
                            + f"#{c['case']}", f"desk:case:{c['case']}"),)
                    for c in message["cases"])
    return Reply("\n".join(lines), buttons)


def transfer_choose(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    lead = []
    if message.get("off_duty"):
        lead.append(_("%(name)s is off duty: the person would be left waiting. Case #%(case)d "
                      "has not moved.") % {"name": isolate(message["off_duty"]),
                                           "case": message["case"]})
    if message.get("unknown"):
        lead.append(_("I don't know that caseworker."))
    if not message["colleagues"]:
        return Reply("\n".join([*lead, _("Nobody else is on duty to take case #%(case)d.") % {
            "case": message["case"]}]))
    text = "\n".join([*lead, _("Who should take case #%(case)d?") % {"case": message["case"]}])
    return Reply(text, tuple(
        (Button(m["name"], f"desk:transfer:{message['case']}:{m['id']}"),)
        for m in message["colleagues"]))


def duty(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    if message.get("usage"):
        return Reply(_("Send /duty on or /duty off."))
    if message["on"]:
        return Reply(_("You are on duty. New cases will come to you here."))
    return Reply(_("You are off duty. You keep the cases you have open: /cases"))


def desk_help(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    lines = [_("Passage desk. Commands:"),
             _("/duty on or /duty off: start or stop taking new cases"),
             _("/queue: who is waiting · /claim N: take case N (or the next one)"),
             _("/cases: your open cases · /case N: switch to case N"),
             _("/note TEXT: a private note, never sent to the person"),
             _("/transfer: pass the case to a colleague · /release: back to the queue"),
             _("/close: end the chat; the person goes back to the bot"),
             _("Anything else you write goes to the person in your current case.")]
    if message.get("supervisor"):
        lines.append(_("As a supervisor you see every open case in /queue and can transfer "
                       "or close any of them."))
    return Reply("\n".join(lines))


def roster(message: dict[str, Any], texts: Texts) -> Reply:
    _ = texts.gettext
    lines = [_("Roster:")]
    for m in message["members"]:
        state = _("on duty") if m["on_duty"] else _("off duty")
        lines.append(f"{m['id']} · {isolate(m['name'])} · {m['role']} · "
                     f"{','.join(m['languages'])} · {state}")
    return Reply("\n".join(lines))


def _line(text_of: Callable[[Callable[[str], str]], str]) -> Renderer:
    def render_line(message: dict[str, Any], texts: Texts) -> Reply:
        values = {k: isolate(str(v)) if isinstance(v, str) else v for k, v in message.items()}
        return Reply(text_of(texts.gettext) % values)

    return render_line


def _ended(text_of: Callable[[Callable[[str], str]], str]) -> Renderer:
    """A case ended or left the caseworker: what happened, then where their messages go now."""
    render_what = _line(text_of)

    def render_ended(message: dict[str, Any], texts: Texts) -> Reply:
        return _with_pen(message, texts, render_what(message, texts).text)

    return render_ended


def _with_pen(message: dict[str, Any], texts: Texts, text: str) -> Reply:
    if "pen" in message:
        text += "\n" + pen_line(message["pen"], texts)
    return Reply(text)


def relay(message: dict[str, Any], texts: Texts) -> Reply:
    if message.get("urgent"):
        label = "⚠️ " + texts.gettext("#%(case)d may be in danger now") % message
    else:
        label = f"💬 #{message['case']}"
    return Reply(f"<b>{label}</b>\n{relayed_text(message['text'])}")  # own line: no isolate


def reminder(message: dict[str, Any], texts: Texts) -> Reply:
    return Reply("⏰ " + texts.gettext(
        "Case #%(case)d: no message for %(time)s. Is the person still there? /close when you "
        "are done.") % {"case": message["case"],
                        "time": _minutes(message["idle_min"], texts)})


CASEWORKER_RENDERERS: dict[str, Renderer] = {
    "desk_new_case": new_case,
    "desk_escalation": escalation,
    "desk_claimed": opened_case(lambda _: _("You have case #%(case)d.")),
    "desk_case": opened_case(lambda _: _("Case #%(case)d")),
    "desk_transferred_in": opened_case(lambda _: _("%(name)s passed case #%(case)d to you.")),
    "desk_queue": queue,
    "desk_cases": my_cases,
    "desk_transfer_choose": transfer_choose,
    "desk_duty": duty,
    "desk_help": desk_help,
    "desk_roster": roster,
    "desk_relay": relay,
    "desk_reminder": reminder,
    "desk_urgent": lambda m, t: Reply("⚠️ " + t.gettext(
        "Case #%(case)d is still waiting and may be in danger now:") % m
        + f"\n{relayed_text(m['text'])}", (_claim_button(m["case"], t),)),
    "desk_case_taken": _line(lambda _: _("Case #%(case)d was taken by %(by)s.")),
    "desk_case_gone": _line(lambda _: _("Case #%(case)d is no longer waiting.")),
    "desk_claim_lost": _line(lambda _: _("Case #%(case)d was already taken by %(by)s.")),
    "desk_survivor_left": _ended(lambda _: _("The person in case #%(case)d ended the chat.")),
    "desk_survivor_exited": _ended(lambda _: _(
        "The person in case #%(case)d used quick exit: the chat is gone from their phone. The "
        "case is closed; do not write to them unless they write again.")),
    "desk_safe_word": lambda m, t: Reply("⚠️ " + t.gettext(
        "Case #%(case)d: the person sent their safe word. They may not be alone or safe. They "
        "saw a harmless reply; write nothing that shows what this chat is about.") % m),
    "desk_erased": _ended(lambda _: _("Case #%(case)d was erased by the survivor.")),
    "desk_case_expired": lambda m, t: _with_pen(m, t, t.ngettext(
        "Case #%(case)d was closed after %(days)d day without activity. Its messages, notes "
        "and summary were erased.", "Case #%(case)d was closed after %(days)d days without "
        "activity. Its messages, notes and summary were erased.", m["days"]) % m),
    "desk_note_saved": _line(lambda _: _(
        "Note saved to case #%(case)d. Only caseworkers can see it.")),
    "desk_released": _ended(lambda _: _("Case #%(case)d is back in the queue.")),
    "desk_closed": _ended(lambda _: _("Case #%(case)d is closed. The person is back with the "
                                     "bot.")),
    "desk_transferred_out": _ended(lambda _: _("Case #%(case)d is now with %(to)s.")),
    "desk_transferred_away": _ended(lambda _: _("%(by)s passed case #%(case)d to %(to)s.")),
    "desk_closed_by": _ended(lambda _: _("%(by)s closed case #%(case)d. The person is back with "
                                         "the bot.")),
    "desk_no_active": _line(lambda _: _(
        "Choose a case first: /cases shows your open cases, /queue who is waiting.")),
    "desk_not_sent": lambda m, t: Reply("✋ " + t.gettext("Not sent to anyone.") + "\n" + t.gettext(
        "Choose a case first: /cases shows your open cases, /queue who is waiting.")),
    "desk_unknown_case": _line(lambda _: _("There is no case %(case)s that you can open.")),
    "desk_text_only": _line(lambda _: _(
        "Only text messages are passed on. Photos, voice messages, files and locations are "
        "not, to protect the person.")),
    "desk_not_allowed": _line(lambda _: _("Your role does not allow that.")),
}
