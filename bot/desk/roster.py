"""Who may work the desk: the roster admins keep with `passage caseworkers`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.desk.models import ROLES, Caseworker
from bot.errors import UsageError
from bot.i18n import SUPPORTED_LANGUAGES
from encryption import current

USER_NAMESPACE = "telegram-user"


def user_hash(user_id: int) -> str:
    return current().pseudonym(USER_NAMESPACE, user_id)


@dataclass(frozen=True)
class Member:
    id: int
    user_id: int
    name: str
    languages: tuple[str, ...]
    organization: str | None
    role: str
    on_duty: bool
    active_case_id: int | None

    @property
    def language(self) -> str:
        """The language the desk writes to them in: their first one Passage speaks."""
        return next((lang for lang in self.languages if lang in SUPPORTED_LANGUAGES), "en")

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def speaks(self, language: str) -> bool:
        return language in self.languages


def member(row: Caseworker) -> Member:
    return Member(row.id, int(row.user_id), row.name, tuple(row.languages.split(",")),
                  row.organization, row.role, row.on_duty, row.active_case_id)


def parse_languages(value: str) -> str:
    languages = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [lang for lang in languages if lang not in SUPPORTED_LANGUAGES]
    if not languages or unknown:
        raise UsageError(f"--languages: expected codes from {' '.join(SUPPORTED_LANGUAGES)}, "
                         f"got {value!r}")
    return ",".join(dict.fromkeys(languages))


def add(engine: Engine, user_id: int, name: str, languages: str, organization: str | None,
        role: str) -> tuple[Member, bool]:
    """Add someone, or update them when they are on the roster already; True when new."""
    if role not in ROLES:
        raise UsageError(f"--role: expected one of {', '.join(ROLES)}")
    if not name.strip():
        raise UsageError("--name must not be empty")
    languages = parse_languages(languages)
    with Session(engine) as session, session.begin():
        row = session.execute(select(Caseworker).where(
            Caseworker.user_hash == user_hash(user_id))).scalar_one_or_none()
        created = row is None
        if row is None:
            row = Caseworker(user_hash=user_hash(user_id), user_id=str(user_id))
            session.add(row)
        row.name, row.languages, row.organization, row.role = (
            name.strip(), languages, organization, role)
        session.flush()
        return member(row), created


def remove(engine: Engine, user_id: int) -> bool:
    """Off the roster; their open cases go back to the queue."""
    from bot.desk import cases, routing

    with Session(engine) as session, session.begin():
        row = session.execute(select(Caseworker).where(
            Caseworker.user_hash == user_hash(user_id))).scalar_one_or_none()
        if row is None:
            return False
        for case in cases.open_cases(session, row.id):
            cases.release(session, case, None)
            routing.to_survivor(session, case, {"message": "handoff_released"})
            routing.notify_new_case(session, case, everyone=True)
        session.execute(delete(Caseworker).where(Caseworker.id == row.id))
        return True


def everyone(engine: Engine) -> list[Member]:
    with Session(engine) as session:
        return [member(row) for row in session.execute(
            select(Caseworker).order_by(Caseworker.id)).scalars()]


_FIND = select(Caseworker).where(Caseworker.user_hash == bindparam("user_hash"))  # built once


def find(session: Session, user_id: int) -> Member | None:
    """Asked for every message (is the sender a caseworker?)."""
    row = session.execute(_FIND, {"user_hash": user_hash(user_id)}).scalar_one_or_none()
    return member(row) if row else None


def set_duty(session: Session, member_id: int, on: bool) -> None:
    session.execute(update(Caseworker).where(Caseworker.id == member_id).values(on_duty=on))


def set_active_case(session: Session, member_id: int, case_id: int | None) -> None:
    session.execute(update(Caseworker).where(Caseworker.id == member_id)
                    .values(active_case_id=case_id))
