"""The survivor's side of the desk: consent, the summary they approve, the queue, relay to
their caseworker, and ending the chat. Returns messages for the survivor ({"message": key});
messages for caseworkers go to the outbox in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.desk import cases, routing
from bot.desk.config import DeskConfig
from bot.desk.models import CLAIMED, CONSENT, WAITING, Case, Outbox
from bot.safety import emergency_contacts

Message = dict[str, Any]


def availability(session: Session, config: DeskConfig) -> Message:
    """What a survivor is told about who would answer and when."""
    return {
        "organizations": [o.name for o in config.organizations],
        "on_duty": bool(cases.on_duty(session)),
        "hours": [{"organization": o.name, "timezone": o.timezone, "hours": list(o.hours)}
                  for o in config.organizations if o.hours],
    }


def offer(session: Session, config: DeskConfig, reason: str) -> Message:
    return {"message": "handoff_offer", "reason": reason, **availability(session, config)}


def consent(session: Session, survivor: str, chat_id: int, language: str,
            summary: dict[str, Any]) -> Message:
    """They said yes: show what the caseworker would see first, for them to approve."""
    case = cases.open_case_of(session, survivor)
    if case is None:
        case = cases.start(session, survivor, chat_id, language, summary or None)
    elif case.status != CONSENT:
        return {"message": "handoff_in_case"}
    return {"message": "handoff_summary", "need": summary.get("need"),
            "area": summary.get("area")}


def enqueue(session: Session, config: DeskConfig, survivor: str, share_summary: bool,
            country: str | None) -> Message:
    case = cases.open_case_of(session, survivor)
    if case is None or case.status != CONSENT:
        return {"message": "handoff_in_case"} if case else {"message": "main_menu"}
    cases.enqueue(session, case, share_summary)
    routing.notify_new_case(session, case)
    contacts = emergency_contacts(country)
    return {"message": "handoff_queued", "position": cases.position(session, case),
            "numbers": list(contacts.numbers), "hotline_name": contacts.hotline_name,
            "hotline_number": contacts.hotline_number, **availability(session, config)}


def cancel(session: Session, survivor: str) -> Message:
    case = cases.open_case_of(session, survivor)
    if case is not None and case.status == CONSENT:
        cases.close(session, case, "survivor")
    return {"message": "main_menu"}


def write(session: Session, survivor: str, text: str, source_key: str | None,
          emergency: bool) -> list[Message]:
    """A message from a survivor with an open case: kept for, or relayed to, the caseworker."""
    case = cases.open_case_of(session, survivor)
    if case is None:
        return []
    if case.status == CONSENT:
        return [{"message": "handoff_summary", **(case.summary or {})}]
    if not cases.add_message(session, case, "survivor", text, source_key=source_key):
        return []  # this very message was handled before a restart
    if emergency and not case.urgent:
        case.urgent = True
        cases.event(session, case, "urgent")
    replies: list[Message] = []
    if case.status == CLAIMED:
        worker = cases.caseworker(session, case.caseworker_id)
        if worker:
            routing.to_caseworker(session, worker, {"message": "desk_relay", "case": case.id,
                                                    "text": text, "urgent": emergency}, case)
    elif case.status == WAITING:
        if emergency:
            routing.tell_supervisors(session, {"message": "desk_urgent", "case": case.id,
                                               "text": text}, case)
        replies.append({"message": "handoff_saved"})
    return replies


def end(session: Session, survivor: str) -> Message | None:
    """The survivor stops the chat (/end or the button)."""
    case = cases.open_case_of(session, survivor)
    if case is None:
        return None
    _leave(session, case, "desk_survivor_left")
    cases.close(session, case, "survivor")
    return {"message": "handoff_ended"}


def leave_quickly(session: Session, survivor: str) -> None:
    """Quick exit: the case ends, its caseworker is told why, and nothing queued for the
    survivor's chat is sent any more (it would reappear on a phone just wiped)."""
    case = cases.open_case_of(session, survivor)
    if case is not None:
        _leave(session, case, "desk_survivor_exited")
        cases.close(session, case, "exit")
    session.execute(delete(Outbox).where(Outbox.chat_hash == survivor)
                    .execution_options(synchronize_session=False))


def safe_word(session: Session, survivor: str) -> None:
    """The survivor may not be alone: their case goes to the top, the caseworker is warned, and
    the word itself is never relayed."""
    case = cases.open_case_of(session, survivor)
    if case is None or case.status == CONSENT:
        return
    if not case.urgent:
        case.urgent = True
    cases.event(session, case, "safe_word")
    worker = cases.caseworker(session, case.caseworker_id) if case.status == CLAIMED else None
    if worker:
        routing.to_caseworker(session, worker, {"message": "desk_safe_word", "case": case.id})
    else:
        routing.tell_supervisors(session, {"message": "desk_safe_word", "case": case.id}, case)


def erase(session: Session, survivor: str) -> None:
    """Forget-me: every case of theirs is erased; a caseworker on it is told so."""
    for case in session.execute(select(Case).where(Case.survivor == survivor)).scalars().all():
        if case.status in cases.OPEN:
            _leave(session, case, "desk_erased")
        cases.erase(session, case)


def _leave(session: Session, case: Case, key: str) -> None:
    """Whoever was dealing with the case learns that the survivor has gone."""
    if case.status == CLAIMED and (worker := cases.caseworker(session, case.caseworker_id)):
        routing.tell_case_ended(session, worker, case, {"message": key})
    elif case.status == WAITING:
        routing.retire_notices(session, case, {"message": "desk_case_gone", "case": case.id})
