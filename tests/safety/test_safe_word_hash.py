"""A safe word is kept as a keyed hash of the word and the person: two people with the same
word have different hashes. A word set before (hashed without the person) still works until
the person sets one again: the word was never kept, so it cannot be hashed again without it."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.conversation import Person
from bot.storage import Profile
from encryption import current
from tests.e2e.expectations import shown


def _stored(engine, passage, person: Person) -> str | None:  # noqa: ANN001
    with Session(engine) as session:
        return session.execute(select(Profile.safe_word).where(
            Profile.pseudonym == passage.pseudonym(person))).scalar_one_or_none()


async def test_the_same_safe_word_is_a_different_hash_for_each_person(
        passage, database, fresh_chat_id):
    ana, luis = Person(fresh_chat_id, "es"), Person(fresh_chat_id + 100_000, "es")
    for person in (ana, luis):
        [saved] = await passage.on_text(person, "/safeword Mango")
        assert saved.text == shown("safe_word", "es", set=True)
    assert None is not _stored(database, passage, ana) != _stored(database, passage, luis)
    for person in (ana, luis):
        [decoy] = await passage.on_text(person, "mango")
        assert decoy.text == shown("decoy", "es")


async def test_a_safe_word_set_before_still_works_until_a_new_one_is_set(
        passage, database, fresh_chat_id):
    ana = Person(fresh_chat_id, "es")
    await passage.on_text(ana, "/safeword provisional")
    with Session(database) as session, session.begin():  # as the code before stored it
        session.execute(update(Profile).where(Profile.pseudonym == passage.pseudonym(ana))
                        .values(safe_word=current().pseudonym("safe-word", "girasol")))
    [decoy] = await passage.on_text(ana, "Girasol")
    assert decoy.text == shown("decoy", "es")

    await passage.on_text(ana, "/safeword mango")
    [decoy] = await passage.on_text(ana, "mango")
    assert decoy.text == shown("decoy", "es")
    assert _stored(database, passage, ana) != current().pseudonym("safe-word", "mango")
    [not_a_decoy] = await passage.on_text(ana, "girasol")
    assert not_a_decoy.text != shown("decoy", "es")
