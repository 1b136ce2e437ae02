"""A long queue never blinds the desk: /queue and /duty on stay one message Telegram accepts,
the cases that will be taken first at the top, and a count of the rest."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.desk import roster
from bot.desk.models import CLAIMED, WAITING, Case
from bot.i18n import SUPPORTED_LANGUAGES, translations
from bot.render import render
from bot.storage import utcnow
from tests.desk.conftest import Desk
from tests.fake_bot_api import inline_buttons
from tests.telegram_rules import check_text

WAITING_CASES, CLAIMED_CASES = 500, 120
AREA = "Saint-Martin-d'Entremont-le-Vieux (Auvergne-Rhône-Alpes)"  # a long area on every card


def fill_the_desk(desk: Desk, caseworker_id: int) -> list[int]:
    """500 waiting cases (every 7th urgent, every 3rd with a summary, queued a minute apart in
    shuffled order) and 120 with a caseworker; returns the waiting cases in the order they
    will be taken."""
    now = utcnow()
    with Session(desk.engine) as session, session.begin():
        for n in range(WAITING_CASES):
            age = (n * 263) % WAITING_CASES  # every age once, not in id order
            session.add(Case(survivor=f"waiting-{n}", survivor_chat=str(90_000 + n),
                             language="es",
                             summary={"need": "shelter", "area": AREA} if n % 3 == 0 else None,
                             status=WAITING, urgent=n % 7 == 3,
                             queued_at=now - timedelta(minutes=age),
                             widened_at=now, escalated_at=now))  # the sweeper did its part
        for n in range(CLAIMED_CASES):
            session.add(Case(survivor=f"claimed-{n}", survivor_chat=str(80_000 + n),
                             language="es", status=CLAIMED, caseworker_id=caseworker_id))
    with Session(desk.engine) as session:
        waiting = session.execute(select(Case).where(Case.status == WAITING)).scalars().all()
        return [c.id for c in sorted(waiting, key=lambda c: (not c.urgent, c.queued_at))]


def listed_cases(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(?:⚠️ )?#(\d+) · ", text, re.MULTILINE)]


def assert_a_readable_queue(text: str, taken_first: list[int]) -> None:
    waiting_part = text.split("With caseworkers:")[0]
    listed = listed_cases(waiting_part)
    assert len(listed) == 20, text  # the desk reads only the first 20
    assert listed == taken_first[:len(listed)]  # urgent first, then the longest waiting
    assert text.startswith(f"Waiting: {WAITING_CASES}\n")
    assert f"… and {WAITING_CASES - len(listed)} more cases" in waiting_part


async def test_five_hundred_waiting_cases_fit_in_one_message(desk: Desk):
    rosa = desk.caseworker("Rosa", "en,es")
    sofia = desk.caseworker("Sofia", "en,fr", role="supervisor")
    with Session(desk.engine) as session:
        taken_first = fill_the_desk(desk, roster.find(session, sofia.id).id)

    # A caseworker coming on duty, then asking again.
    [duty, queue] = await desk.say(rosa, "/duty on", 2)
    assert "on duty" in duty["text"]
    assert_a_readable_queue(queue["text"], taken_first)
    assert "With caseworkers:" not in queue["text"]  # only supervisors see those
    claimable = [data for _, data in inline_buttons(queue)]
    assert claimable == [f"desk:claim:{case}" for case in taken_first[:8]]
    [again] = await desk.say(rosa, "/queue")
    assert_a_readable_queue(again["text"], taken_first)

    # A supervisor also sees the cases with caseworkers, counted beyond the first ones.
    [supervised] = await desk.say(sofia, "/queue")
    assert_a_readable_queue(supervised["text"], taken_first)
    with_caseworkers = supervised["text"].split("With caseworkers:")[1]
    shown_claimed = len(re.findall(r"^#\d+ · ", with_caseworkers, re.MULTILINE))
    assert shown_claimed == 20
    assert f"… and {CLAIMED_CASES - shown_claimed} more cases" in with_caseworkers
    assert desk.fake.rejected == []


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_however_long_the_cards_the_queue_is_one_message(language):
    """Twenty cards with the longest areas and names still make one message Telegram takes:
    fewer are listed, and the count says how many more there are."""
    card = {"language": "ar", "need": "immigration", "area": "Ä" * 200, "urgent": True,
            "waiting_min": 1_000, "shared": True}
    reply = render({"message": "desk_queue", "waiting": 500, "claimed_total": 300,
                    "cases": [{**card, "case": 10_000 + n} for n in range(20)],
                    "claimed": [{**card, "case": 20_000 + n, "by": "Ö" * 64}
                                for n in range(20)]}, language)
    check_text({"text": reply.text, "parse_mode": "HTML"})  # at most 4096 units, as Telegram
    listed = len(re.findall(r"<b>#1\d{4}</b>", reply.text))
    assert 1 <= listed < 20
    more = translations(language).ngettext("… and %(count)d more case",
                                           "… and %(count)d more cases", 500 - listed)
    assert more % {"count": 500 - listed} in reply.text
