"""The desk as the rest of Passage sees it: async calls, each one database transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.desk import cases, caseworker_side, routing, survivor_side
from bot.desk.config import DeskConfig
from bot.desk.models import WAITING, Notice, Outbox
from bot.desk.roster import Member, find
from bot.desk.sweeper import sweep
from bot.storage import retrying_when_locked

Message = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Outgoing:
    """An outbox row, decrypted, for the edge to send (or to edit an earlier message)."""

    id: int
    chat_id: int
    chat_hash: str
    language: str
    message: Message
    edit_message_id: int | None


class Desk:
    def __init__(self, engine: Engine, config: DeskConfig) -> None:
        self._engine = engine
        self.config = config
        self._outbox_written = False

    def _transaction(self, work: Callable[..., T], *args: Any) -> T:
        def attempt() -> T:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                result = work(session, *args)
            if session.info.get(cases.OUTBOX_WRITTEN):  # committed
                self._outbox_written = True
            return result

        return retrying_when_locked(attempt)

    def take_outbox_news(self) -> bool:
        """Whether this process added to the outbox since it was last asked: after a message,
        the outbox needs a look only then (other writers' rows wait for the next round)."""
        news, self._outbox_written = self._outbox_written, False
        return news

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(self._transaction, work, *args)

    # --- who is writing -------------------------------------------------------------------
    async def case_status(self, survivor: str) -> str | None:
        return await self._run(cases.open_case_status, survivor)

    def who(self, user_id: int | None, survivor: str) -> tuple[Member | None, str | None]:
        """In the caller's thread, one transaction: the sender on the roster (or None) and the
        status of the survivor's open case (or None) — what every message asks first."""

        def read(session: Session) -> tuple[Member | None, str | None]:
            return (None if user_id is None else find(session, user_id),
                    cases.open_case_status(session, survivor))

        return self._transaction(read)

    # --- survivors --------------------------------------------------------------------------
    async def offer(self, reason: str) -> Message:
        return await self._run(survivor_side.offer, self.config, reason)

    async def consent(self, survivor: str, chat_id: int, language: str,
                      summary: dict[str, Any]) -> Message:
        return await self._run(survivor_side.consent, survivor, chat_id, language, summary)

    async def enqueue(self, survivor: str, share_summary: bool, country: str | None) -> Message:
        return await self._run(survivor_side.enqueue, self.config, survivor, share_summary,
                               country)

    async def cancel(self, survivor: str) -> Message:
        return await self._run(survivor_side.cancel, survivor)

    async def survivor_writes(self, survivor: str, text: str, source_key: str | None,
                              emergency: bool) -> list[Message]:
        return await self._run(survivor_side.write, survivor, text, source_key, emergency)

    async def survivor_ends(self, survivor: str) -> Message | None:
        return await self._run(survivor_side.end, survivor)

    async def survivor_exits(self, survivor: str) -> None:
        await self._run(survivor_side.leave_quickly, survivor)

    async def safe_word_used(self, survivor: str) -> None:
        await self._run(survivor_side.safe_word, survivor)

    async def erase(self, survivor: str) -> None:
        await self._run(survivor_side.erase, survivor)

    # --- caseworkers ------------------------------------------------------------------------
    async def caseworker_command(self, user_id: int, command: str, arg: str
                                 ) -> tuple[Member | None, list[Message]]:
        """(None, []) when the sender is not on the roster: they get the survivor's bot."""

        def run(session: Session) -> tuple[Member | None, list[Message]]:
            me = find(session, user_id)
            if me is None:
                return None, []
            role, action = caseworker_side.COMMANDS.get(command, ("caseworker", None))
            if action is None:
                return me, caseworker_side.help_(session, me)
            if not me.can(role):
                return me, [{"message": "desk_not_allowed"}]
            return me, action(session, me, arg.strip())

        return await self._run(run)

    async def caseworker_writes(self, user_id: int, text: str
                                ) -> tuple[Member | None, list[Message]]:
        def run(session: Session) -> tuple[Member | None, list[Message]]:
            me = find(session, user_id)
            return (me, caseworker_side.relay(session, me, text)) if me else (None, [])

        return await self._run(run)

    async def caseworker_button(self, user_id: int, data: str
                                ) -> tuple[Member | None, list[Message]]:
        """Buttons "desk:claim:N", "desk:case:N", "desk:transfer:N:MEMBER"."""
        _, action, arg = data.split(":", 2) if data.count(":") >= 2 else ("", "", "")
        command = {"claim": "/claim", "case": "/case", "transfer": "/transfer"}.get(action)
        return await self.caseworker_command(user_id, command or "/help", arg)

    # --- the desk on its own, and the outbox ------------------------------------------------
    async def sweep(self, now: datetime) -> None:
        await self._run(sweep, self.config, now)

    async def pending(self, limit: int = 100) -> list[Outgoing]:
        def run(session: Session) -> list[Outgoing]:
            rows = session.execute(select(Outbox).order_by(Outbox.id).limit(limit)).scalars()
            return [Outgoing(r.id, int(r.chat), r.chat_hash, r.language, r.message,
                             r.edit_message_id) for r in rows]

        return await self._run(run)

    async def is_queued(self, outgoing_id: int) -> bool:
        """Still to be sent: a survivor's quick exit or erasure withdraws what was queued for
        their chat, even after the edge has read it."""
        return await self._run(lambda session: session.get(Outbox, outgoing_id) is not None)

    async def delivered(self, outgoing_id: int, message_id: int | None) -> None:
        """Sent (message_id) or undeliverable (None): either way it leaves the outbox; a sent
        new-case notice is remembered so that it can be edited when the case is taken."""

        def run(session: Session) -> None:
            row = session.get(Outbox, outgoing_id)
            if row is None:
                return
            # By statement: a claim or an erasure in another transaction may have removed it.
            session.execute(delete(Outbox).where(Outbox.id == outgoing_id)
                            .execution_options(synchronize_session=False))
            if row.is_notice and message_id is not None:
                session.add(Notice(case_id=row.case_id, chat=row.chat, chat_hash=row.chat_hash,
                                   language=row.language, message_id=message_id))
                case = cases.get(session, row.case_id)
                if case is not None and case.status != WAITING:  # taken while it was sent
                    session.flush()
                    routing.retire_notices(session, case, {"message": "desk_case_gone",
                                                           "case": case.id})

        await self._run(run)
