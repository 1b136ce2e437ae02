"""The desk's tables. Survivors appear only as a pseudonym plus an encrypted chat id to
reply to; caseworkers only as a keyed hash of their Telegram id plus an encrypted copy."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
)

from bot.storage import Base, utcnow
from encryption.columns import EncryptedJSON, EncryptedText

ROLES = ("caseworker", "supervisor", "admin")  # each role can do what the ones before it can
WAITING, CONSENT, CLAIMED, CLOSED = "waiting", "consent", "claimed", "closed"


class Caseworker(Base):
    __tablename__ = "desk_caseworkers"

    id = Column(Integer, primary_key=True)
    user_hash = Column(String(64), nullable=False, unique=True)  # keyed hash of the Telegram id
    user_id = Column(EncryptedText("desk_caseworkers.user_id", row_key="user_hash"), nullable=False)
    name = Column(EncryptedText("desk_caseworkers.name", row_key="user_hash"), nullable=False)
    languages = Column(String(64), nullable=False)  # "es,en": routing order
    organization = Column(String(120))
    role = Column(String(16), nullable=False, default="caseworker")
    on_duty = Column(Boolean, nullable=False, default=False, server_default=false())
    active_case_id = Column(Integer)  # the case their plain messages go to
    added_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Case(Base):
    __tablename__ = "desk_cases"

    id = Column(Integer, primary_key=True)  # the case number caseworkers see
    survivor = Column(String(64), index=True)  # pseudonym; NULL once erased
    survivor_chat = Column(EncryptedText("desk_cases.survivor_chat", row_key="survivor"))
    language = Column(String(8), nullable=False)
    # What the survivor approved to share first: {"need": ..., "area": ...}; NULL = nothing.
    summary = Column(EncryptedJSON("desk_cases.summary", row_key="survivor"))
    status = Column(String(16), nullable=False, index=True)
    caseworker_id = Column(Integer, ForeignKey("desk_caseworkers.id", ondelete="SET NULL"))
    urgent = Column(Boolean, nullable=False, default=False, server_default=false())
    close_reason = Column(String(16))  # "caseworker", "survivor", "erased"
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    queued_at = Column(DateTime(timezone=True))
    last_activity_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    widened_at = Column(DateTime(timezone=True))  # told every caseworker on duty
    escalated_at = Column(DateTime(timezone=True))  # told the supervisors it waits too long
    reminded_at = Column(DateTime(timezone=True))  # reminded the caseworker it is idle


class CaseEvent(Base):
    """Every state change, who made it and when: the case's history."""

    __tablename__ = "desk_case_events"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("desk_cases.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    kind = Column(String(24), nullable=False)
    caseworker_id = Column(Integer)  # who; NULL for the survivor or the system
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class CaseMessage(Base):
    """A relayed message or a private note, encrypted; source_key stops a re-delivered
    Telegram update from being relayed twice."""

    __tablename__ = "desk_case_messages"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("desk_cases.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    author = Column(String(12), nullable=False)  # "survivor", "caseworker", "note"
    caseworker_id = Column(Integer)
    body = Column(EncryptedText("desk_case_messages.body", row_key="case_id"), nullable=False)
    source_key = Column(String(64), unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class Outbox(Base):
    """A message for a chat other than the one being answered: written in the same
    transaction as the state change it reports, sent in id order by the Telegram edge and
    deleted once sent. A new-case notice (is_notice) leaves a Notice row behind."""

    __tablename__ = "desk_outbox"
    # Ids are never reused: a sender holding a row's id must not delete a newer row that got it.
    __table_args__ = {"sqlite_autoincrement": True}

    id = Column(Integer, primary_key=True)
    chat = Column(EncryptedText("desk_outbox.chat", row_key="chat_hash"), nullable=False)
    chat_hash = Column(String(64), nullable=False, index=True)  # to erase a survivor's rows
    language = Column(String(8), nullable=False)
    message = Column(EncryptedJSON("desk_outbox.message", row_key="chat_hash"), nullable=False)
    case_id = Column(Integer, index=True)  # the case it is about: erased with the case
    is_notice = Column(Boolean, nullable=False, default=False, server_default=false())
    edit_message_id = Column(Integer)  # set: edit that message instead of sending a new one
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Notice(Base):
    """Where a new-case notice was shown, so it can say "taken" once someone claims it."""

    __tablename__ = "desk_notices"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("desk_cases.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    chat = Column(EncryptedText("desk_notices.chat", row_key="chat_hash"), nullable=False)
    chat_hash = Column(String(64), nullable=False)
    language = Column(String(8), nullable=False)
    message_id = Column(Integer, nullable=False)


Index("ix_desk_cases_caseworker", Case.caseworker_id, Case.status)
