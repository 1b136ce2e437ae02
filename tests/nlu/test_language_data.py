"""The language packs: consistent, leak-free, and a safety net that catches what it must."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.engine.language_resources import all_resources
from bot.engine.places_nlu import bare_place
from bot.engine.safety_net import looks_like_emergency
from bot.evaluation import (
    ALLOWED_IN_BOTH,
    FRESH_TEST_DIR,
    HELDOUT_DIR,
    NEAR_DUPLICATE,
    NLU_DIR,
    Example,
    heldout_examples,
    near_duplicates,
    similarity,
    training_examples,
    unseen,
)
from bot.i18n import SUPPORTED_LANGUAGES
from services_directory.places import normalize

TRAINING = training_examples()


def test_every_language_has_a_complete_pack():
    for language in SUPPORTED_LANGUAGES:
        assert (NLU_DIR / f"{language}.yml").exists()
        assert (HELDOUT_DIR / f"{language}.jsonl").exists()
        assert all_resources()[language].emergency_patterns, language


@pytest.mark.parametrize("path", sorted(NLU_DIR.glob("*.yml")), ids=lambda p: p.stem)
def test_every_intent_block_says_its_language(path: Path):
    """The language identifier learns from this metadata."""
    blocks = (yaml.safe_load(path.read_text(encoding="utf-8")) or {})["nlu"]
    assert all((b.get("metadata") or {}).get("language") == path.stem for b in blocks)


@pytest.mark.parametrize("directory", [HELDOUT_DIR, FRESH_TEST_DIR], ids=["held-out", "fresh"])
def test_no_evaluation_message_is_a_near_duplicate_of_a_training_example(directory: Path):
    """A message that is a training example with a letter, a word or the accents changed
    measures memory, not understanding (bot/evaluation.py, similarity())."""
    leaked = near_duplicates(heldout_examples(directory), TRAINING)
    assert leaked == [], f"{len(leaked)} near-duplicates:\n" + "\n".join(map(str, leaked))


def test_the_fresh_set_does_not_repeat_the_held_out_set():
    """The held-out set guided training data (by category): the fresh set must not lean on it."""
    repeated = near_duplicates(heldout_examples(FRESH_TEST_DIR), heldout_examples(HELDOUT_DIR))
    assert repeated == [], "\n".join(map(str, repeated))


@pytest.mark.parametrize(("evaluated", "trained"), [
    ("i want to kill my self", "i want to kill myself"),  # a space
    ("me tome todas mis pastillas", "me tome todas las pastillas"),  # a word changed
    ("quiero trabajar pero con papeles y contrato", "quiero trabajar con papeles y contrato"),
    ("Y a où on donne à manger gratuitement ?", "ou on donne a manger gratuitement"),
    ("i want another language pls", "i want another language"),  # a word added
    ("心里好难受 想找人说说", "心里好难受想找人说说"),
    ("сейчас выпью все таблетки", "я сейчас выпью все таблетки"),
])
def test_a_training_example_changed_a_little_is_a_near_duplicate(evaluated, trained):
    assert similarity(evaluated, trained) >= NEAR_DUPLICATE
    pair = near_duplicates([Example(evaluated, "xx", "greet", None)],
                           [Example(trained, "xx", "greet", None)])
    assert [d.trained.text for d in pair] == [trained]


@pytest.mark.parametrize(("evaluated", "trained"), [
    ("hes hitting me right now pls", "hes punching me right now pls"),
    ("i dont wanna be alive anymore", "i dont want to live anymore"),
    ("need a safe place to crash", "need a safe place to stay"),
])
def test_the_same_request_in_other_words_is_not(evaluated, trained):
    assert similarity(evaluated, trained) < NEAR_DUPLICATE


def test_one_word_greetings_may_be_in_both_but_are_not_scored():
    greetings = [Example(text, "xx", "greet", None) for text in ("Hola!", "привет", "你好")]
    assert all(normalize(e.text) in ALLOWED_IN_BOTH for e in greetings)
    assert near_duplicates(greetings, greetings) == []
    assert near_duplicates([Example("hola amiga", "xx", "greet", None)],
                           [Example("hola amiga!", "xx", "greet", None)]) != []


def test_the_fresh_test_set_keeps_20_unseen_messages_per_language():
    """Written blind to the training data, so common words overlap; those are not scored."""
    kept = Counter(e.language for e in unseen(heldout_examples(FRESH_TEST_DIR)))
    assert all(kept[language] >= 20 for language in SUPPORTED_LANGUAGES), kept


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_the_safety_net_catches_every_emergency_example(language):
    emergencies = [e.text for e in TRAINING if e.language == language and e.intent == "emergency"]
    missed = [text for text in emergencies if not looks_like_emergency(text, [language])]
    assert len(emergencies) >= 80 and missed == []


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_the_safety_net_rarely_raises_false_alarms(language):
    others = [e.text for e in TRAINING if e.language == language and e.intent != "emergency"]
    alarms = [text for text in others if looks_like_emergency(text, [language])]
    assert len(alarms) <= 0.01 * len(others), alarms[:10]


@pytest.mark.parametrize(("language", "text"), [
    ("en", "i still dream that he is hitting me"),
    ("en", "he threatened me with a knife last year, can i sue him"),
    ("es", "me tuvieron encerrada hace dos anos y todavia tengo pesadillas"),
    ("ru", "год назад он угрожал мне ножом, хочу подать заявление в суд"),
    ("zh", "他以前拿刀吓我，我想找律师"),
])
def test_the_past_or_a_dream_is_not_an_emergency(language, text):
    assert not looks_like_emergency(text, [language])
    assert not looks_like_emergency(text)  # nor with the patterns of every language


@pytest.mark.parametrize(("language", "text"), [
    ("en", "he used to hit me and now he is outside my door"),
    ("en", "i had a nightmare and now someone is banging on the door right now"),
    ("es", "antes me pegaba y ahora esta afuera de la puerta"),
    ("en", "i dream about dying, i want to kill myself"),
    # asking for a lawyer or the police does not make danger past
    ("en", "he is beating me i need a lawyer"),
    ("en", "my boss locked me in the room, can i sue him"),
    ("es", "me estan golpeando necesito un abogado"),
    ("es", "el patron me tiene encerrada, quiero denunciarlo"),
    ("fr", "il me frappe, je veux porter plainte"),
    ("pt", "ele esta me batendo, preciso de um advogado"),
    ("ru", "они меня бьют, нужен адвокат"),
    ("uk", "він мене б'є, потрібен адвокат"),
    ("ar", "بيضربني دلوقتي وعايز محامي"),
    ("zh", "他在打我，我需要律师"),
])
def test_danger_right_now_or_suicide_wakes_the_safety_net_whatever_else_is_said(language, text):
    assert looks_like_emergency(text, [language])
    assert looks_like_emergency(text)


@pytest.mark.parametrize(("language", "text"), [
    ("ro", "Bucuresti"), ("ro", "sunt in Iasi"), ("ro", "ma aflu in Chisinau"), ("pt", "Lisboa"),
    ("fr", "je suis a Beyrouth"), ("tl", "nasa Cebu ako"), ("ru", "я в Ташкенте"),
])
def test_cities_people_name_stay_places(language, text):
    """A place name that is also a word of the training data is taken for that word (so that
    "casa" or "hola" is no town): training examples must not name these cities."""
    assert bare_place(text, [language]) is not None
