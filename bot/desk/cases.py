"""The case state machine (consent -> waiting -> claimed -> closed, with release and transfer)
and the outbox. Each function works inside the caller's transaction and writes one event row
per state change, so what the desk knows is always what the database says."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.desk.models import (
    CLAIMED,
    CLOSED,
    CONSENT,
    WAITING,
    Case,
    CaseEvent,
    CaseMessage,
    Caseworker,
    Notice,
    Outbox,
)
from bot.desk.roster import Member, member
from bot.storage import utcnow

OPEN = (CONSENT, WAITING, CLAIMED)

OUTBOX_WRITTEN = "outbox written"  # in a session's info once it added to the outbox


def event(session: Session, case: Case, kind: str, who: int | None = None) -> None:
    session.add(CaseEvent(case_id=case.id, kind=kind, caseworker_id=who, at=utcnow()))


def _open_case(what: Any) -> Select:
    """The survivor's latest case that is not closed; built once (asked for every message)."""
    return (select(what).where(Case.survivor == bindparam("survivor"), Case.status.in_(OPEN))
            .order_by(Case.id.desc()))


_OPEN_CASE, _OPEN_CASE_STATUS = _open_case(Case), _open_case(Case.status)


def open_case_of(session: Session, survivor: str) -> Case | None:
    return session.execute(_OPEN_CASE, {"survivor": survivor}).scalars().first()


def open_case_status(session: Session, survivor: str) -> str | None:
    """open_case_of(...).status, reading that column only (a whole Case decrypts its chat)."""
    return session.execute(_OPEN_CASE_STATUS, {"survivor": survivor}).scalars().first()


def get(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def start(session: Session, survivor: str, chat_id: int, language: str,
          summary: dict[str, Any] | None) -> Case:
    case = Case(survivor=survivor, survivor_chat=str(chat_id), language=language,
                summary=summary, status=CONSENT)
    session.add(case)
    session.flush()
    event(session, case, "consented")
    return case


def enqueue(session: Session, case: Case, share_summary: bool) -> None:
    case.status, case.queued_at = WAITING, utcnow()
    if not share_summary:
        case.summary = None
    event(session, case, "queued")


def position(session: Session, case: Case) -> int:
    """1 for the next case to be taken; urgent cases go first."""
    earlier = Case.queued_at < case.queued_at
    urgent = Case.urgent.is_(True)
    ahead_of_it = (urgent & earlier) if case.urgent else (urgent | earlier)
    ahead = session.execute(select(func.count()).select_from(Case).where(
        Case.status == WAITING, Case.id != case.id, ahead_of_it)).scalar_one()
    return ahead + 1


def waiting(session: Session, limit: int | None = None) -> list[Case]:
    """Waiting cases in the order they are taken: urgent first, then the longest waiting."""
    return list(session.execute(select(Case).where(Case.status == WAITING)
                                .order_by(Case.urgent.desc(), Case.queued_at, Case.id)
                                .limit(limit)).scalars())


def count(session: Session, status: str) -> int:
    return session.execute(select(func.count()).select_from(Case).where(
        Case.status == status)).scalar_one()


def open_cases(session: Session, caseworker_id: int | None = None,
               limit: int | None = None) -> list[Case]:
    query = select(Case).where(Case.status == CLAIMED).order_by(Case.id).limit(limit)
    if caseworker_id is not None:
        query = query.where(Case.caseworker_id == caseworker_id)
    return list(session.execute(query).scalars())


def claim(session: Session, case_id: int, caseworker: Member) -> bool:
    """First claim wins: one conditional UPDATE, so two claims at once cannot both succeed."""
    won = session.execute(update(Case).where(Case.id == case_id, Case.status == WAITING)
                          .values(status=CLAIMED, caseworker_id=caseworker.id,
                                  last_activity_at=utcnow(), reminded_at=None)).rowcount == 1
    if won:
        case = session.get(Case, case_id)
        session.refresh(case)
        event(session, case, "claimed", caseworker.id)
    return won


def release(session: Session, case: Case, by: int | None) -> None:
    case.status, case.caseworker_id, case.queued_at = WAITING, None, utcnow()
    case.widened_at = case.escalated_at = None
    event(session, case, "released", by)
    _nobody_writes_to(session, case)


def transfer(session: Session, case: Case, to: Member, by: int) -> None:
    """The case changes hands; nobody's typed messages go to it until its new caseworker
    chooses it (their own case stays where they were writing)."""
    case.caseworker_id, case.last_activity_at, case.reminded_at = to.id, utcnow(), None
    event(session, case, f"transferred:{to.id}", by)
    _nobody_writes_to(session, case)


def close(session: Session, case: Case, reason: str, by: int | None = None) -> None:
    case.status, case.close_reason = CLOSED, reason
    event(session, case, f"closed:{reason}", by)
    _nobody_writes_to(session, case)


def _nobody_writes_to(session: Session, case: Case) -> None:
    """Whoever was writing in this case now writes nowhere: a pen left on it would come back
    to life if the case came back to them (transferred back, claimed again)."""
    session.execute(update(Caseworker).where(Caseworker.active_case_id == case.id)
                    .values(active_case_id=None))


def erase(session: Session, case: Case) -> None:
    """Forget-me: nothing of the survivor stays; the case number remains as 'erased'."""
    if case.status != CLOSED:
        close(session, case, "erased")
    case.close_reason = "erased"
    case.survivor = case.survivor_chat = case.summary = None
    session.execute(delete(CaseMessage).where(CaseMessage.case_id == case.id))
    session.execute(delete(Outbox).where(Outbox.case_id == case.id))


def add_message(session: Session, case: Case, author: str, body: str,
                caseworker_id: int | None = None, source_key: str | None = None) -> bool:
    """False when this source message was recorded already (a re-delivered update)."""
    if source_key and session.execute(select(CaseMessage.id).where(
            CaseMessage.source_key == source_key)).first():
        return False
    session.add(CaseMessage(case_id=case.id, author=author, body=body,
                            caseworker_id=caseworker_id, source_key=source_key))
    if author != "note":
        case.last_activity_at = utcnow()
    return True


def messages(session: Session, case: Case, limit: int = 20) -> list[CaseMessage]:
    rows = session.execute(select(CaseMessage).where(CaseMessage.case_id == case.id)
                           .order_by(CaseMessage.id.desc()).limit(limit)).scalars()
    return list(reversed(list(rows)))


def active_case_of(session: Session, caseworker_id: int) -> int | None:
    """The case a caseworker's typed messages go to now (their "pen"), or None: the case they
    chose with /case or /claim, while it is still theirs and open."""
    chosen = session.execute(select(Caseworker.active_case_id).where(
        Caseworker.id == caseworker_id)).scalar_one_or_none()
    case = session.get(Case, chosen) if chosen else None
    if case is None or case.status != CLAIMED or case.caseworker_id != caseworker_id:
        return None
    return case.id


def caseworker(session: Session, caseworker_id: int | None) -> Member | None:
    row = session.get(Caseworker, caseworker_id) if caseworker_id else None
    return member(row) if row else None


def on_duty(session: Session) -> list[Member]:
    return [member(row) for row in session.execute(
        select(Caseworker).where(Caseworker.on_duty).order_by(Caseworker.id)).scalars()]


def with_role(session: Session, roles: tuple[str, ...]) -> list[Member]:
    return [member(row) for row in session.execute(
        select(Caseworker).where(Caseworker.role.in_(roles)).order_by(Caseworker.id)).scalars()]


def send(session: Session, chat: int | str, chat_hash: str, language: str,
         message: dict[str, Any], case: Case | None = None, is_notice: bool = False,
         edit_message_id: int | None = None) -> None:
    """Queue a message for a chat. One that carries a survivor's words ("text", "history")
    must name their case, or erasing the case would leave it behind."""
    if case is None and ("text" in message or "history" in message):
        raise ValueError(f"{message.get('message')}: a survivor's words without their case")
    session.info[OUTBOX_WRITTEN] = True
    session.add(Outbox(chat=str(chat), chat_hash=chat_hash, language=language, message=message,
                       case_id=case.id if case else None, is_notice=is_notice,
                       edit_message_id=edit_message_id, created_at=utcnow()))


def notified(session: Session, case: Case) -> set[str]:
    """Chat hashes that were sent (or are about to be sent) this case's new-case notice."""
    pending = session.execute(select(Outbox.chat_hash).where(
        Outbox.case_id == case.id, Outbox.is_notice)).scalars()
    shown = session.execute(select(Notice.chat_hash).where(Notice.case_id == case.id)).scalars()
    return set(pending) | set(shown)


def notices(session: Session, case: Case) -> list[Notice]:
    return list(session.execute(select(Notice).where(Notice.case_id == case.id)).scalars())
