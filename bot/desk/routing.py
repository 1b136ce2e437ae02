"""Who hears about a case: caseworkers on duty who speak the survivor's language first, every
caseworker on duty when none does (or when it has waited a while), supervisors when it waits
too long. Survivors are written to in their language, caseworkers in theirs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.desk import cases
from bot.desk.models import Case, Outbox
from bot.desk.roster import Member
from bot.storage import utcnow


def aware(moment: datetime, now: datetime) -> datetime:
    """SQLite returns naive datetimes (stored as UTC): comparable with `now` again."""
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def minutes_since(moment: datetime | None, now: datetime | None = None) -> int:
    if moment is None:
        return 0
    now = now or utcnow()
    return max(0, int((now - aware(moment, now)).total_seconds() // 60))


def case_card(case: Case, now: datetime | None = None) -> dict[str, Any]:
    """What a caseworker may know about a case: never who the survivor is."""
    summary = case.summary or {}
    return {"case": case.id, "language": case.language, "need": summary.get("need"),
            "area": summary.get("area"), "urgent": case.urgent,
            "waiting_min": minutes_since(case.queued_at, now), "shared": bool(summary)}


def to_caseworker(session: Session, to: Member, message: dict[str, Any], case: Case | None = None,
                  is_notice: bool = False, edit_message_id: int | None = None) -> None:
    from bot.desk.roster import user_hash

    cases.send(session, to.user_id, user_hash(to.user_id), to.language, message, case, is_notice,
               edit_message_id)


def tell_case_ended(session: Session, worker: Member, case: Case, message: dict[str, Any]
                    ) -> None:
    """A caseworker learns that a case of theirs ended or left them, and where their typed
    messages go now: still to the case they chose, or to no one until they choose one."""
    pen = cases.active_case_of(session, worker.id)
    to_caseworker(session, worker, {**message, "case": case.id,
                                    "pen": None if pen == case.id else pen})


def to_survivor(session: Session, case: Case, message: dict[str, Any]) -> None:
    if case.survivor_chat is None:  # erased
        return
    cases.send(session, case.survivor_chat, case.survivor, case.language, message, case)


def notify_new_case(session: Session, case: Case, everyone: bool = False,
                    besides: int | None = None) -> int:
    """Send the new-case notice with a Claim button (not to `besides`, who just let it go);
    returns how many were told."""
    from bot.desk.roster import user_hash

    on_duty = [m for m in cases.on_duty(session) if m.id != besides]
    speakers = [m for m in on_duty if m.speaks(case.language)]
    chosen = on_duty if everyone or not speakers else speakers
    already = cases.notified(session, case)
    told = 0
    for member in chosen:
        if user_hash(member.user_id) not in already:
            to_caseworker(session, member, {"message": "desk_new_case", **case_card(case)},
                          case, is_notice=True)
            told += 1
    return told


def tell_supervisors(session: Session, message: dict[str, Any], case: Case) -> None:
    for member in cases.with_role(session, ("supervisor", "admin")):
        to_caseworker(session, member, message, case)


def retire_notices(session: Session, case: Case, message: dict[str, Any]) -> None:
    """Edit every new-case notice of this case (its Claim button goes) to say what happened."""
    for notice in cases.notices(session, case):
        cases.send(session, notice.chat, notice.chat_hash, notice.language, message,
                   edit_message_id=notice.message_id)
        session.delete(notice)
    session.execute(delete(Outbox).where(Outbox.case_id == case.id, Outbox.is_notice.is_(True))
                    .execution_options(synchronize_session=False))
