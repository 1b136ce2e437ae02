"""What the desk does on its own, run every few seconds by the bot: tell everyone on duty
about a case nobody who speaks its language took, escalate cases that wait too long and
remind caseworkers of idle chats. `expire` and `purge` are the desk's part of retention
(bot/retention.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.desk import cases, routing
from bot.desk.config import DeskConfig
from bot.desk.models import CLAIMED, CLOSED, WAITING, Case, CaseEvent, CaseMessage, Outbox

# The desk's own doing, not a sign that anyone is still there.
SYSTEM_EVENTS = ("escalated",)


def sweep(session: Session, config: DeskConfig, now: datetime) -> None:
    for case in cases.waiting(session):
        waited = now - routing.aware(case.queued_at or now, now)
        if case.widened_at is None and waited >= config.notify_everyone_after:
            routing.notify_new_case(session, case, everyone=True)
            case.widened_at = now
        if case.escalated_at is None and waited >= config.escalate_after:
            routing.tell_supervisors(session, {"message": "desk_escalation",
                                               **routing.case_card(case, now)}, case)
            case.escalated_at = now
            cases.event(session, case, "escalated")
    for case in cases.open_cases(session):
        idle_since = routing.aware(case.last_activity_at, now)
        reminded = case.reminded_at and routing.aware(case.reminded_at, now) >= idle_since
        if not reminded and now - idle_since >= config.remind_idle_after:
            worker = cases.caseworker(session, case.caseworker_id)
            if worker:
                routing.to_caseworker(session, worker, {
                    "message": "desk_reminder", "case": case.id,
                    "idle_min": routing.minutes_since(idle_since, now)}, case)
            case.reminded_at = now


def last_sign_of_life(session: Session, case: Case, now: datetime) -> datetime:
    """When anyone last did something in this case: the survivor or a caseworker wrote, a
    note was kept, or the case changed hands. The desk's own escalations do not count."""
    event = session.execute(select(func.max(CaseEvent.at)).where(
        CaseEvent.case_id == case.id, CaseEvent.kind.not_in(SYSTEM_EVENTS))).scalar()
    message = session.execute(select(func.max(CaseMessage.created_at)).where(
        CaseMessage.case_id == case.id)).scalar()
    moments = (case.created_at, case.queued_at, case.last_activity_at, event, message)
    return max(routing.aware(moment, now) for moment in moments if moment is not None)


def expire(session: Session, before: datetime, now: datetime) -> int:
    """Close every open case nobody touched since `before`: a consent or a wait nobody
    answered, a chat that went quiet; `purge` then empties it with the other old closed cases.
    Its Claim buttons go, and the caseworker of a claimed one is told. The survivor is not: a
    message weeks later could show someone else what this chat was. Returns how many."""
    stale = session.execute(select(Case).where(
        Case.status.in_(cases.OPEN), Case.last_activity_at < before)).scalars().all()
    expired = 0
    for case in stale:
        quiet_since = last_sign_of_life(session, case, now)
        if quiet_since >= before:
            continue
        worker = cases.caseworker(session, case.caseworker_id) if case.status == CLAIMED else None
        if case.status == WAITING:
            routing.retire_notices(session, case, {"message": "desk_case_gone", "case": case.id})
        cases.close(session, case, "expired")
        session.execute(delete(Outbox).where(Outbox.case_id == case.id))  # e.g. a reminder
        if worker:
            routing.tell_case_ended(session, worker, case, {"message": "desk_case_expired",
                                                            "days": (now - quiet_since).days})
        expired += 1
    return expired


def purge(session: Session, before: datetime) -> int:
    """Delete relayed messages, notes, case events (safe word and urgent times among them)
    and unsent outbox rows from before `before`, and forget the survivor, chat and summary of
    cases closed before it: what stays of a case is its number, language, status and times.
    Returns how many messages went."""
    gone = session.execute(delete(CaseMessage).where(CaseMessage.created_at < before)).rowcount
    session.execute(delete(CaseEvent).where(CaseEvent.at < before))
    session.execute(delete(Outbox).where(Outbox.created_at < before))
    session.execute(update(Case).where(Case.status == CLOSED, Case.last_activity_at < before)
                    .values(summary=None, survivor_chat=None, survivor=None))
    return gone
