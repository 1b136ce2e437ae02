"""Where a caseworker's typed message goes (their "pen"): only their own choice moves it. A
transfer, a claim while they are writing, a colleague closing or moving their case, or the
survivor leaving never sends their next words to another person."""

from __future__ import annotations

from tests.desk.conftest import Desk, case_number
from tests.e2e.expectations import shown
from tests.fake_bot_api import FakeUser, inline_buttons

SHELTER = "Survivor 1: the shelter address is Calle X 3"


async def claims(desk: Desk, worker: FakeUser, survivor: FakeUser) -> tuple[int, dict]:
    """The survivor asks for a person and `worker` (the only one on duty who speaks their
    language) claims the case from the notice: its number and what the worker read."""
    await desk.queue(survivor)
    [notice] = await desk.fake.wait_for_bot_messages(worker)
    case = case_number(notice["text"])
    [opened] = await desk.press(worker, notice, f"desk:claim:{case}")
    [joined] = await desk.fake.wait_for_bot_messages(survivor)
    assert worker.first_name in joined["text"]
    return case, opened


def texts_seen_by(desk: Desk, person: FakeUser) -> str:
    return "\n".join(m.get("text", "") for m in desk.fake.visible_messages(person))


async def reaches_only(desk: Desk, worker: FakeUser, text: str, survivor: FakeUser,
                       other: FakeUser) -> None:
    """What `worker` types reaches `survivor`, and `other` never sees it."""
    await desk.say(worker, text, replies=0)
    [relayed] = await desk.fake.wait_for_bot_messages(survivor)
    assert relayed["text"].endswith(text)
    assert text not in texts_seen_by(desk, other)


async def test_a_transfer_never_redirects_what_the_receiver_types(desk: Desk):
    bea = desk.caseworker("Bea", "en,es")
    sam = desk.caseworker("Sam", "en,fr", role="supervisor")
    await desk.on_duty(bea)
    await desk.on_duty(sam)
    ana, leo = desk.fake.new_user("Ana", "es"), desk.fake.new_user("Leo", "fr")
    case_1, opened = await claims(desk, bea, ana)
    assert "What you write here now goes to this person" in opened["text"]
    case_2, _ = await claims(desk, sam, leo)

    # A supervisor passes case 2 to Bea while she is writing to Ana in case 1.
    [moved] = await desk.say(sam, f"/transfer {case_2}:Bea")
    assert moved["text"] == shown("desk_transferred_out", "en", case=case_2, to="Bea", pen=None)
    [told_leo] = await desk.fake.wait_for_bot_messages(leo)
    assert "Bea" in told_leo["text"]
    [taken_over] = await desk.fake.wait_for_bot_messages(bea)
    assert f"Case #{case_2} is now yours — /case {case_2} to write there." in taken_over["text"]
    assert f"Your messages still go to case #{case_1}." in taken_over["text"]

    # What she types next is for Ana, and only Ana gets it.
    await reaches_only(desk, bea, SHELTER, ana, other=leo)

    # Her own choice moves her pen: then Leo, and only Leo, gets her words.
    [chosen] = await desk.say(bea, f"/case {case_2}")
    assert "What you write here now goes to this person" in chosen["text"]
    await reaches_only(desk, bea, "Bonjour Leo, je suis là.", leo, other=ana)
    assert desk.fake.rejected == []


async def test_a_transfer_to_someone_writing_nowhere_sends_nothing(desk: Desk):
    bea = desk.caseworker("Bea", "en,es")
    sam = desk.caseworker("Sam", "en,fr", role="supervisor")
    await desk.on_duty(bea)
    await desk.on_duty(sam)
    leo = desk.fake.new_user("Leo", "fr")
    case, _ = await claims(desk, sam, leo)
    await desk.say(sam, "/transfer Bea")
    [taken_over] = await desk.fake.wait_for_bot_messages(bea)
    assert f"/case {case} to write there" in taken_over["text"]
    assert "Your messages go to no one until you choose a case: /cases" in taken_over["text"]
    await desk.fake.wait_for_bot_messages(leo)  # "Bea is taking over"
    [refused] = await desk.say(bea, "meant for someone else")
    assert refused["text"] == shown("desk_not_sent", "en")
    assert "meant for someone else" not in texts_seen_by(desk, leo)


async def test_claiming_while_writing_keeps_the_pen_where_it_was(desk: Desk):
    bea = desk.caseworker("Bea", "en,es")
    await desk.on_duty(bea)
    ana, eva = desk.fake.new_user("Ana", "es"), desk.fake.new_user("Eva", "es")
    case_1, _ = await claims(desk, bea, ana)
    case_2, opened = await claims(desk, bea, eva)
    assert f"Case #{case_2} is now yours — /case {case_2} to write there." in opened["text"]
    assert f"Your messages still go to case #{case_1}." in opened["text"]
    await reaches_only(desk, bea, SHELTER, ana, other=eva)


async def test_when_someone_else_ends_the_case_the_next_words_go_nowhere(desk: Desk):
    """A supervisor closes it, moves it away, or the survivor ends it: the caseworker is told,
    and what they type next is sent to nobody until they choose a case."""
    bea = desk.caseworker("Bea", "en,es")
    sam = desk.caseworker("Sam", "en,fr", role="supervisor")
    await desk.on_duty(bea)
    await desk.on_duty(sam)
    ana, eva, rut = (desk.fake.new_user(n, "es") for n in ("Ana", "Eva", "Rut"))
    case_1, _ = await claims(desk, bea, ana)
    case_2, _ = await claims(desk, bea, eva)
    case_3, _ = await claims(desk, bea, rut)

    async def nothing_is_sent(what: str) -> None:
        [refused] = await desk.say(bea, what)
        assert refused["text"] == shown("desk_not_sent", "en")
        for survivor in (ana, eva, rut):
            assert what not in texts_seen_by(desk, survivor)

    # 1. A supervisor closes the case she is writing in.
    [closed] = await desk.say(sam, f"/close {case_1}")
    assert closed["text"] == shown("desk_closed", "en", case=case_1, pen=None)
    [told] = await desk.fake.wait_for_bot_messages(bea)
    assert told["text"] == shown("desk_closed_by", "en", case=case_1, by="Sam", pen=None)
    await desk.fake.wait_for_bot_messages(ana)  # the chat has ended
    await nothing_is_sent("Ana, one more thing")

    # 2. A supervisor moves the case she is writing in to himself.
    await desk.say(bea, f"/case {case_2}")
    await desk.say(sam, f"/transfer {case_2}:Sam", replies=2)  # done; case 2 is now his
    [told] = await desk.fake.wait_for_bot_messages(bea)
    assert told["text"] == shown("desk_transferred_away", "en", case=case_2, by="Sam",
                                 to="Sam", pen=None)
    await desk.fake.wait_for_bot_messages(eva)  # Sam is taking over
    await nothing_is_sent("Eva, the address is")
    # ... and gives it back: she has to choose it again.
    await desk.say(sam, f"/transfer {case_2}:Bea")
    [back] = await desk.fake.wait_for_bot_messages(bea)
    assert f"Case #{case_2} is now yours — /case {case_2} to write there." in back["text"]
    assert "Your messages go to no one until you choose a case: /cases" in back["text"]
    await desk.fake.wait_for_bot_messages(eva)  # Bea is taking over
    await nothing_is_sent("Eva, the address is")

    # 3. The survivor ends the chat.
    await desk.say(bea, f"/case {case_3}")
    await desk.say(rut, "/end")
    [told] = await desk.fake.wait_for_bot_messages(bea)
    assert told["text"] == shown("desk_survivor_left", "en", case=case_3, pen=None)
    await nothing_is_sent("Rut, are you there?")
    assert desk.fake.rejected == []


async def test_releasing_says_where_the_next_words_go(desk: Desk):
    bea = desk.caseworker("Bea", "en,es")
    await desk.on_duty(bea)
    ana, eva = desk.fake.new_user("Ana", "es"), desk.fake.new_user("Eva", "es")
    case_1, _ = await claims(desk, bea, ana)
    case_2, _ = await claims(desk, bea, eva)
    [released] = await desk.say(bea, "/release")
    assert released["text"] == shown("desk_released", "en", case=case_1, pen=None)
    await desk.fake.wait_for_bot_messages(ana)  # back in the queue
    [refused] = await desk.say(bea, "still there?")
    assert refused["text"] == shown("desk_not_sent", "en")
    assert "still there?" not in texts_seen_by(desk, ana) + texts_seen_by(desk, eva)


async def test_a_case_is_not_transferred_to_someone_off_duty(desk: Desk):
    sam = desk.caseworker("Sam", "en,fr", role="supervisor")
    olga = desk.caseworker("Olga", "en,fr")
    await desk.say(olga, "/help")  # she uses the desk, but is off duty now
    bea = desk.caseworker("Bea", "en,es")
    await desk.on_duty(sam)
    await desk.on_duty(bea)
    leo = desk.fake.new_user("Leo", "fr")
    case, _ = await claims(desk, sam, leo)

    [refused] = await desk.say(sam, "/transfer Olga")
    assert refused["text"] == shown("desk_transfer_choose", "en", case=case, off_duty="Olga",
                                    colleagues=[{"id": 0, "name": "Bea"}])
    assert "is off duty: the person would be left waiting." in refused["text"]
    assert [name for name, _ in inline_buttons(refused)] == ["Bea"]  # who is on duty
    # The case is still Sam's: what Leo writes reaches him, and Olga heard of nothing.
    await desk.say(leo, "allô ?", replies=0)
    [relayed] = await desk.fake.wait_for_bot_messages(sam)
    assert relayed["text"] == f"💬 #{case}\nallô ?"
    assert f"#{case}" not in texts_seen_by(desk, olga)
    assert "Olga" not in texts_seen_by(desk, leo)
    assert desk.fake.rejected == []
