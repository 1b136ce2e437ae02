"""Quick exit forgets the conversation: whoever picks up the phone next meets Passage as a new
person would (issue 15, item 2), while a case open at the exit still ends with its caseworker
told."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.desk.models import Case
from tests.desk.conftest import Desk, case_number
from tests.e2e.expectations import CHICAGO, shown
from tests.fake_bot_api import FakeBotAPI, FakeUser


def on_screen(fake: FakeBotAPI, user: FakeUser) -> list[str]:
    return [m.get("text") or str(m.get("location")) for m in fake.visible_messages(user)]


async def search_shelter_near_chicago_in_spanish(desk: Desk, user: FakeUser) -> None:
    """An English phone whose owner chose Spanish, then found shelters near Chicago."""
    [choices] = await desk.say(user, "/language")
    await desk.press(user, choices, "lang:es")
    [ask] = await desk.say(user, "necesito un lugar seguro para dormir")
    assert ask["text"] == shown("ask_location", "es")
    await desk.fake.share_location(user, *CHICAGO)
    [results] = await desk.fake.wait_for_bot_messages(user)
    assert "Chicago" in results["text"]


async def test_after_quick_exit_the_next_person_on_the_phone_starts_anew(desk: Desk):
    user = desk.fake.new_user("Ana", "en")
    await search_shelter_near_chicago_in_spanish(desk, user)
    await desk.say(user, "exit")
    assert on_screen(desk.fake, user) == ["👍"]

    [asked] = await desk.say(user, "shelter")
    assert asked["text"] == shown("ask_location", "en")  # the phone's language, not Spanish
    assert "Chicago" not in asked["text"]
    assert desk.fake.rejected == []


async def test_quick_exit_in_a_case_forgets_the_conversation_and_tells_the_caseworker(
        desk: Desk):
    worker = desk.caseworker("Rosa", "en,es")
    await desk.on_duty(worker)
    survivor = desk.fake.new_user("Ana", "en")
    await search_shelter_near_chicago_in_spanish(desk, survivor)
    [offer] = await desk.say(survivor, "/person")
    [summary] = await desk.press(survivor, offer, "handoff:yes")
    await desk.press(survivor, summary, "handoff:share")
    [notice] = await desk.fake.wait_for_bot_messages(worker)
    case = case_number(notice["text"])
    assert "Chicago" in notice["text"]  # what the caseworker needed, shared with consent
    await desk.press(worker, notice, f"desk:claim:{case}")
    await desk.fake.wait_for_bot_messages(survivor)

    await desk.say(survivor, "salir")
    assert on_screen(desk.fake, survivor) == ["👍"]
    [told] = await desk.fake.wait_for_bot_messages(worker)
    assert told["text"] == shown("desk_survivor_exited", "en", case=case, pen=None)
    with Session(desk.engine) as session:
        ended = session.get(Case, case)
        assert (ended.status, ended.close_reason) == ("closed", "exit")

    [asked] = await desk.say(survivor, "shelter")
    assert asked["text"] == shown("ask_location", "en")
    assert desk.fake.rejected == []
