"""What the desk does on its own, run every few seconds by the bot: tell everyone on duty
about a case nobody who speaks its language took, escalate cases that wait too long and
remind caseworkers of idle chats. `purge` is the desk's part of retention (bot/retention.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from bot.desk import cases, routing
from bot.desk.config import DeskConfig
from bot.desk.models import CLOSED, Case, CaseMessage


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


def purge(session: Session, before: datetime) -> int:
    """Delete relayed messages and notes written before `before`, and forget the summary and
    chat of cases closed before it. Returns how many messages went."""
    gone = session.execute(delete(CaseMessage).where(CaseMessage.created_at < before)).rowcount
    session.execute(update(Case).where(Case.status == CLOSED, Case.last_activity_at < before)
                    .values(summary=None, survivor_chat=None, survivor=None))
    return gone
