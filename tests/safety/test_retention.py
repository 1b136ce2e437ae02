"""Retention, at its edges: rows written just inside and just outside the retention period
(and the 48 hours Telegram lets a bot delete a message), the purge, and exactly the old ones
gone. Both ways it runs are covered: the running bot's (Passage.retention) and `passage purge`."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.conversation import Person
from bot.desk.models import (
    CLAIMED,
    CLOSED,
    CONSENT,
    WAITING,
    Case,
    CaseEvent,
    CaseMessage,
    Notice,
    Outbox,
)
from bot.storage import ChatMessage, Conversation, Profile, utcnow
from bot.telegram_app import deliver_outbox
from tests.desk.conftest import Desk, case_number
from tests.e2e.expectations import shown
from tests.e2e.test_commands import PASSAGE, _env
from tests.safety.stored import columns_holding

PERIOD = timedelta(days=30)  # PASSAGE_RETENTION_DAYS's default, which the tests' bot runs with
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
JUST_OUTSIDE, JUST_INSIDE = PERIOD + HOUR, PERIOD - HOUR
SUMMARY = {"need": "legal", "area": "Madrid"}


@pytest.fixture(autouse=True)
def _the_bot_keeps_thirty_days(passage) -> None:  # noqa: ANN001
    assert passage.retention.period == PERIOD


def a_case(engine, status: str, age: timedelta, survivor: str) -> int:  # noqa: ANN001
    """A case as the desk leaves it, with everything in it (an event, a message) `age` old."""
    at = utcnow() - age
    with Session(engine) as session, session.begin():
        case = Case(survivor=survivor, survivor_chat="700100", language="es", summary=SUMMARY,
                    status=status, created_at=at, last_activity_at=at,
                    queued_at=None if status == CONSENT else at)
        session.add(case)
        session.flush()
        session.add(CaseEvent(case_id=case.id, kind="consented", at=at))
        session.add(CaseMessage(case_id=case.id, author="survivor", body="tengo miedo",
                                created_at=at))
        return case.id


def kept_of(engine, case_id: int) -> tuple:  # noqa: ANN001
    """What the database still says about a case: status, who, chat, summary, messages."""
    with Session(engine) as session:
        case = session.get(Case, case_id)
        bodies = session.execute(select(CaseMessage.body).where(
            CaseMessage.case_id == case_id)).scalars().all()
        return case.status, case.close_reason, case.survivor, case.survivor_chat, case.summary, \
            bodies


@pytest.mark.parametrize("status", [CONSENT, WAITING, CLAIMED])
async def test_an_open_case_nobody_touched_for_the_retention_period_is_closed_and_emptied(
        passage, clean_desk, status: str):
    old = a_case(clean_desk, status, JUST_OUTSIDE, f"old-{status}")
    recent = a_case(clean_desk, status, JUST_INSIDE, f"recent-{status}")
    with Session(clean_desk) as session, session.begin():  # written for it by the desk itself
        session.add(Outbox(chat="700100", chat_hash=f"old-{status}", language="es",
                           message={"message": "handoff_released"}, case_id=old))
    purged = await passage.retention.purge(utcnow())
    assert purged.expired_cases == 1
    assert kept_of(clean_desk, old) == (CLOSED, "expired", None, None, None, [])
    assert kept_of(clean_desk, recent) == (status, None, f"recent-{status}", "700100", SUMMARY,
                                           ["tengo miedo"])
    with Session(clean_desk) as session:
        assert session.execute(select(Outbox)).first() is None


@pytest.mark.parametrize(("what", "keeps_it_open"), [
    ("a note", True), ("a transfer", True), ("the desk's own escalation", False)])
async def test_a_claimed_case_is_idle_only_without_messages_and_desk_actions(
        passage, clean_desk, what: str, keeps_it_open: bool):
    case_id = a_case(clean_desk, CLAIMED, JUST_OUTSIDE, "quiet-but-worked-on")
    at = utcnow() - JUST_INSIDE
    with Session(clean_desk) as session, session.begin():
        if what == "a note":
            session.add(CaseMessage(case_id=case_id, author="note", body="llamar", created_at=at))
        else:
            kind = "transferred:2" if what == "a transfer" else "escalated"
            session.add(CaseEvent(case_id=case_id, kind=kind, at=at))
    await passage.retention.purge(utcnow())
    status, *_ = kept_of(clean_desk, case_id)
    assert status == (CLAIMED if keeps_it_open else CLOSED)


async def test_the_caseworker_of_a_case_gone_quiet_is_told_in_their_language(
        desk: Desk, bot, passage):  # noqa: ANN001
    olena = desk.caseworker("Olena", "uk,es")
    [duty, _queue] = await desk.say(olena, "/duty on", 2)
    assert duty["text"] == shown("desk_duty", "uk", on=True)
    survivor = desk.fake.new_user("Ana", "es")
    await desk.queue(survivor)
    [notice] = await desk.fake.wait_for_bot_messages(olena)
    case = case_number(notice["text"])
    await desk.press(olena, notice, f"desk:claim:{case}")
    await desk.fake.wait_for_bot_messages(survivor)
    on_their_phone = desk.fake.visible_messages(survivor)

    quiet_since = utcnow() - PERIOD - DAY
    with Session(desk.engine) as session, session.begin():
        session.execute(update(Case).where(Case.id == case).values(
            created_at=quiet_since, queued_at=quiet_since, last_activity_at=quiet_since,
            reminded_at=quiet_since))  # reminded already: the rounds stay quiet meanwhile
        session.execute(update(CaseEvent).where(CaseEvent.case_id == case).values(
            at=quiet_since))
    await passage.retention.purge(utcnow())
    await deliver_outbox(bot)

    [told] = await desk.fake.wait_for_bot_messages(olena)
    assert told["text"] == shown("desk_case_expired", "uk", case=case, days=31, pen=None)
    assert "закрито: 31 день без активності" in told["text"]
    [cases] = await desk.say(olena, "/cases")
    assert cases["text"] == shown("desk_cases", "uk", cases=[])
    assert desk.fake.visible_messages(survivor) == on_their_phone  # nothing weeks later


async def test_a_case_that_waited_for_the_whole_period_loses_its_claim_buttons(
        desk: Desk, bot, passage):  # noqa: ANN001
    rosa = desk.caseworker("Rosa", "en,es")
    await desk.on_duty(rosa)
    survivor = desk.fake.new_user("Ana", "es")
    await desk.queue(survivor)
    [notice] = await desk.fake.wait_for_bot_messages(rosa)
    case = case_number(notice["text"])

    def notice_recorded() -> bool:  # the bot notes where the notice is once it was sent
        with Session(desk.engine) as session:
            return session.execute(select(Notice).where(Notice.case_id == case)).first() is not None

    assert await desk.fake.wait_until(notice_recorded)
    long_ago = utcnow() - JUST_OUTSIDE
    with Session(desk.engine) as session, session.begin():
        session.execute(update(Case).where(Case.id == case).values(
            created_at=long_ago, queued_at=long_ago, last_activity_at=long_ago,
            widened_at=long_ago, escalated_at=long_ago))  # the rounds have nothing to add
        session.execute(update(CaseEvent).where(CaseEvent.case_id == case).values(at=long_ago))
    await passage.retention.purge(utcnow())
    await deliver_outbox(bot)

    def the_notice() -> dict:
        return next(m for m in desk.fake.visible_messages(rosa)
                    if m["message_id"] == notice["message_id"])

    gone = shown("desk_case_gone", "en", case=case)
    assert await desk.fake.wait_until(lambda: the_notice()["text"] == gone), the_notice()
    assert not the_notice().get("reply_markup")


async def test_case_events_go_by_age_safe_word_and_urgent_times_too(passage, clean_desk):
    case_id = a_case(clean_desk, CLAIMED, JUST_INSIDE, "still-talking")
    with Session(clean_desk) as session, session.begin():
        session.add(CaseEvent(case_id=case_id, kind="safe_word", at=utcnow() - JUST_OUTSIDE))
        session.add(CaseEvent(case_id=case_id, kind="urgent", at=utcnow() - JUST_INSIDE))
    await passage.retention.purge(utcnow())
    with Session(clean_desk) as session:
        kinds = session.execute(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
                                ).scalars().all()
    assert sorted(kinds) == ["consented", "urgent"]


async def test_unsent_desk_messages_older_than_the_period_go(passage, clean_desk):
    with Session(clean_desk) as session, session.begin():
        for age, text in ((JUST_OUTSIDE, "old"), (JUST_INSIDE, "recent")):
            session.add(Outbox(chat="700100", chat_hash="someone", language="es",
                               message={"message": "handoff_relay", "text": text},
                               created_at=utcnow() - age))
    await passage.retention.purge(utcnow())
    with Session(clean_desk) as session:
        left = [row.message["text"] for row in session.execute(select(Outbox)).scalars()]
    assert left == ["recent"]


async def test_a_profile_goes_once_its_person_has_not_written_for_the_period(
        passage, database, clean_desk):
    def profile(pseudonym: str, age: timedelta) -> Profile:
        return Profile(pseudonym=pseudonym, language="es", safe_word="hash",
                       updated_at=utcnow() - age)

    with Session(database) as session, session.begin():
        session.add_all([profile("profile-gone", JUST_OUTSIDE),
                         profile("profile-recent", JUST_INSIDE),
                         profile("profile-talking", JUST_OUTSIDE),
                         profile("profile-in-a-case", JUST_OUTSIDE),
                         profile("profile-exited", JUST_OUTSIDE)])
        session.add(Conversation(pseudonym="profile-talking", tracker="{}",
                                 updated_at=utcnow() - JUST_INSIDE))
        session.add(ChatMessage(pseudonym="profile-exited", message_id=1,
                                at=utcnow() - timedelta(hours=47)))
    a_case(clean_desk, WAITING, JUST_INSIDE, "profile-in-a-case")
    await passage.retention.purge(utcnow())
    with Session(database) as session:
        left = set(session.execute(select(Profile.pseudonym).where(
            Profile.pseudonym.startswith("profile-"))).scalars())
    assert left == {"profile-recent", "profile-talking", "profile-in-a-case", "profile-exited"}


async def test_quick_exit_message_ids_go_when_telegram_no_longer_lets_them_be_deleted(
        passage, database):
    with Session(database) as session, session.begin():
        for hours in (47, 49):
            session.add(ChatMessage(pseudonym="exit-ids", message_id=hours,
                                    at=utcnow() - timedelta(hours=hours)))
    await passage.retention.purge(utcnow())
    with Session(database) as session:
        left = session.execute(select(ChatMessage.message_id).where(
            ChatMessage.pseudonym == "exit-ids")).scalars().all()
    assert left == [47]


async def test_a_survivor_silent_for_the_period_leaves_only_counts(desk: Desk, bot, passage):
    survivor = desk.fake.new_user("Ana", "es")
    await desk.say(survivor, "/safeword girasol")
    await desk.queue(survivor)  # waiting: nobody is on duty
    await desk.say(survivor, "sigo aquí, tengo miedo")
    pseudonym = passage.pseudonym(Person(survivor.id))
    # The ids of the last messages are written after they were sent: the update must be done.
    assert await desk.fake.wait_until(lambda: bot.update_queue.empty()
                                      and not bot.update_processor.current_concurrent_updates)

    await passage.retention.purge(utcnow() + PERIOD + HOUR)

    with Session(desk.engine) as session:
        assert columns_holding(session, pseudonym) == []
        [case] = session.execute(select(Case)).scalars().all()
        assert (case.language, case.status, case.close_reason) == ("es", CLOSED, "expired")
        assert (case.survivor, case.survivor_chat, case.summary) == (None, None, None)
        assert session.execute(select(func.count()).select_from(CaseMessage)).scalar_one() == 0
        assert str(survivor.id) not in session.execute(select(Outbox.chat)).scalars().all()
        assert session.get(Profile, pseudonym) is None  # the safe word went with it


def test_passage_purge_closes_and_empties_stale_cases_too(tmp_path):
    env = _env(type("S", (), {"home": tmp_path, "model_path": tmp_path / "none"})())
    subprocess.run([PASSAGE, "keys", "init"], env=env, check=True, capture_output=True)
    subprocess.run([PASSAGE, "purge"], env=env, check=True, capture_output=True)  # the tables
    database = sqlite3.connect(tmp_path / "passage.db")

    def insert_case(survivor: str, age: timedelta) -> None:
        at = str((utcnow() - age).replace(tzinfo=None))
        database.execute("INSERT INTO desk_cases (survivor, language, status, urgent, created_at,"
                         " queued_at, last_activity_at) VALUES (?, 'es', 'waiting', 0, ?, ?, ?)",
                         (survivor, at, at, at))

    insert_case("old", JUST_OUTSIDE)
    insert_case("recent", JUST_INSIDE)
    database.commit()
    done = subprocess.run([PASSAGE, "purge"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "1 open cases without activity closed and emptied" in done.stdout
    assert database.execute("SELECT survivor, status, close_reason FROM desk_cases ORDER BY id"
                            ).fetchall() == [(None, "closed", "expired"),
                                             ("recent", "waiting", None)]
