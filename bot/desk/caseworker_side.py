"""The caseworker's side of the desk: duty, queue, claim, relay, notes, transfer, release,
close. Every command checks the sender's role; replies are messages for the caseworker,
and what the survivor or colleagues must learn goes to the outbox in the same transaction.

A caseworker's "pen" (active_case_id) is the case their typed messages go to. Only their own
choice moves it (/case, or /claim while they have none): a transfer, a claim while they are
writing in another case, or a colleague's action never does. When their case ends the pen
goes nowhere, and every message that ends or adds a case tells them where it is ("pen")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bot.desk import cases, routing
from bot.desk.models import CLAIMED, WAITING, Case
from bot.desk.roster import Member, set_active_case, set_duty

Message = dict[str, Any]

LISTED = 20  # cases /queue lists by name; the rest are counted ("and 480 more")


def duty(session: Session, me: Member, arg: str) -> list[Message]:
    if arg not in ("on", "off"):
        return [{"message": "desk_duty", "on": me.on_duty, "usage": True}]
    set_duty(session, me.id, arg == "on")
    replies: list[Message] = [{"message": "desk_duty", "on": arg == "on"}]
    if arg == "on":
        replies.append(queue(session, me, ""))
    return replies


def queue(session: Session, me: Member, arg: str = "") -> Message:
    """The first waiting cases (urgent first, then the longest waiting) and how many there
    are; for supervisors also the first cases with caseworkers."""
    waiting = [routing.case_card(c) for c in cases.waiting(session, LISTED)]
    message = {"message": "desk_queue", "cases": waiting, "waiting": cases.count(session, WAITING),
               "claimed": []}
    if me.can("supervisor"):
        message["claimed"] = [{**routing.case_card(c), "by": _name(session, c)}
                              for c in cases.open_cases(session, limit=LISTED)]
        message["claimed_total"] = cases.count(session, CLAIMED)
    return message


def claim(session: Session, me: Member, arg: str) -> list[Message]:
    if arg:
        case = _case(session, arg)
        if case is None:
            return [{"message": "desk_unknown_case", "case": arg}]
    else:
        waiting = cases.waiting(session, 1)  # the first to take
        if not waiting:
            return [{"message": "desk_queue", "cases": [], "claimed": []}]
        case = waiting[0]
    if not cases.claim(session, case.id, me):
        session.refresh(case)
        return [{"message": "desk_claim_lost", "case": case.id, "by": _name(session, case)}]
    if cases.active_case_of(session, me.id) is None:  # writing in another case: it stays there
        set_active_case(session, me.id, case.id)
    routing.retire_notices(session, case, {"message": "desk_case_taken", "case": case.id,
                                           "by": me.name})
    routing.to_survivor(session, case, {"message": "handoff_claimed", "name": me.name})
    return [_opened(session, me, case, "desk_claimed")]


def relay(session: Session, me: Member, text: str) -> list[Message]:
    """What a caseworker types goes to the case they chose, or to nobody."""
    case = _active(session, me)
    if case is None:
        return [{"message": "desk_not_sent"}]
    cases.add_message(session, case, "caseworker", text, caseworker_id=me.id)
    routing.to_survivor(session, case, {"message": "handoff_relay", "name": me.name,
                                        "text": text})
    return []


def note(session: Session, me: Member, text: str) -> list[Message]:
    case = _active(session, me)
    if case is None:
        return [{"message": "desk_no_active"}]
    if not text.strip():
        return [{"message": "desk_help"}]
    cases.add_message(session, case, "note", text.strip(), caseworker_id=me.id)
    return [{"message": "desk_note_saved", "case": case.id}]


def release(session: Session, me: Member, arg: str) -> list[Message]:
    case = _active(session, me)
    if case is None:
        return [{"message": "desk_no_active"}]
    cases.release(session, case, me.id)  # and nobody writes to it any more, me included
    routing.to_survivor(session, case, {"message": "handoff_released"})
    routing.notify_new_case(session, case, everyone=True, besides=me.id)
    return [{"message": "desk_released", "case": case.id, "pen": None}]


def close(session: Session, me: Member, arg: str) -> list[Message]:
    case = _active(session, me) if not arg else _case(session, arg)
    if case is None or case.status != CLAIMED or not _mine_or_supervised(me, case):
        return [{"message": "desk_no_active"}]
    cases.close(session, case, "caseworker", me.id)
    routing.to_survivor(session, case, {"message": "handoff_closed"})
    owner = cases.caseworker(session, case.caseworker_id)
    if owner is not None and owner.id != me.id:
        routing.tell_case_ended(session, owner, case, {"message": "desk_closed_by",
                                                       "by": me.name})
    return [{"message": "desk_closed", "case": case.id,
             "pen": cases.active_case_of(session, me.id)}]


def transfer(session: Session, me: Member, arg: str) -> list[Message]:
    """`/transfer N` (roster number) or `/transfer @name`; with no argument, a choice."""
    case_id, _, target = arg.partition(":") if ":" in arg else ("", "", arg)
    case = _case(session, case_id) if case_id else _active(session, me)
    if case is None or case.status != CLAIMED or not _mine_or_supervised(me, case):
        return [{"message": "desk_no_active"}]
    colleagues = [m for m in cases.on_duty(session) if m.id != case.caseworker_id]
    to = _colleague(session, target.strip()) if target.strip() else None
    if to is None or to.id == case.caseworker_id or not to.on_duty:
        # Off duty: the case would sit with someone not working while the person waits.
        return [{"message": "desk_transfer_choose", "case": case.id,
                 "unknown": bool(target) and to is None,
                 "off_duty": to.name if to is not None and not to.on_duty else None,
                 "colleagues": [{"id": m.id, "name": m.name} for m in colleagues]}]
    previous = cases.caseworker(session, case.caseworker_id)
    cases.transfer(session, case, to, me.id)
    if previous is not None and previous.id != me.id:
        routing.tell_case_ended(session, previous, case, {"message": "desk_transferred_away",
                                                          "by": me.name, "to": to.name})
    routing.to_caseworker(session, to, {**_opened(session, to, case, "desk_transferred_in"),
                                        "by": me.name}, case)
    routing.to_survivor(session, case, {"message": "handoff_transferred", "name": to.name})
    return [{"message": "desk_transferred_out", "case": case.id, "to": to.name,
             "pen": cases.active_case_of(session, me.id)}]


def my_cases(session: Session, me: Member, arg: str = "") -> list[Message]:
    mine = [routing.case_card(c) for c in cases.open_cases(session, me.id)]
    return [{"message": "desk_cases", "cases": mine,
             "active": cases.active_case_of(session, me.id)}]


def switch(session: Session, me: Member, arg: str) -> list[Message]:
    """`/case N`: make N the case plain messages go to, and show it."""
    case = _case(session, arg)
    if case is None or not (case.caseworker_id == me.id or me.can("supervisor")):
        return [{"message": "desk_unknown_case", "case": arg}]
    if case.caseworker_id == me.id and case.status == CLAIMED:
        set_active_case(session, me.id, case.id)
    return [_opened(session, me, case, "desk_case")]


def help_(session: Session, me: Member, arg: str = "") -> list[Message]:
    return [{"message": "desk_help", "supervisor": me.can("supervisor"),
             "on_duty": me.on_duty}]


def roster(session: Session, me: Member, arg: str = "") -> list[Message]:
    members = cases.with_role(session, ("caseworker", "supervisor", "admin"))
    return [{"message": "desk_roster", "members": [
        {"id": m.id, "name": m.name, "languages": list(m.languages), "role": m.role,
         "on_duty": m.on_duty} for m in members]}]


def _opened(session: Session, viewer: Member, case: Case, key: str) -> Message:
    """A case as a caseworker sees it: the card, the latest messages and notes, whether it
    is theirs and where their typed messages go now."""
    history = [{"author": m.author, "text": m.body} for m in cases.messages(session, case)]
    return {"message": key, **routing.case_card(case), "status": case.status,
            "close_reason": case.close_reason, "history": history,
            "mine": case.caseworker_id == viewer.id,
            "pen": cases.active_case_of(session, viewer.id)}


def _active(session: Session, me: Member) -> Case | None:
    chosen = cases.active_case_of(session, me.id)
    return cases.get(session, chosen) if chosen else None


def _case(session: Session, number: str) -> Case | None:
    number = number.strip().lstrip("#")
    return cases.get(session, int(number)) if number.isdigit() else None


def _mine_or_supervised(me: Member, case: Case) -> bool:
    return case.caseworker_id == me.id or me.can("supervisor")


def _name(session: Session, case: Case) -> str | None:
    worker = cases.caseworker(session, case.caseworker_id)
    return worker.name if worker else None


def _colleague(session: Session, target: str) -> Member | None:
    members = cases.with_role(session, ("caseworker", "supervisor", "admin"))
    if target.lstrip("#").isdigit():
        return next((m for m in members if m.id == int(target.lstrip("#"))), None)
    wanted = target.lstrip("@").casefold()
    matches = [m for m in members if m.name.casefold().replace(" ", "") == wanted
               or m.name.casefold().split()[0] == wanted]
    return matches[0] if len(matches) == 1 else None


# Commands a caseworker can send, and the least role each needs.
COMMANDS: dict[str, tuple[str, Callable[[Session, Member, str], Any]]] = {
    "/duty": ("caseworker", duty),
    "/queue": ("caseworker", lambda s, m, a: [queue(s, m, a)]),
    "/claim": ("caseworker", claim),
    "/note": ("caseworker", note),
    "/transfer": ("caseworker", transfer),
    "/release": ("caseworker", release),
    "/close": ("caseworker", close),
    "/cases": ("caseworker", my_cases),
    "/case": ("caseworker", switch),
    "/help": ("caseworker", help_),
    "/roster": ("admin", roster),
    "/start": ("caseworker", help_),
}
