"""NLU component: recognises a place typed by the user ("Madrid", "estoy en cdmx", "我在北京").

A message that is only a place (with words such as "I'm in") becomes the intent
`inform_place`; a place named after a preposition ("... en Madrid") becomes the entity
`place` of whatever the classifier understood. Place names are too many and too varied to
learn from examples; the words around them come from dialogues/languages/*.yml.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.engine.language_identifier import likely_languages
from bot.engine.language_resources import place_words, training_vocabulary
from services_directory.places import Place, gazetteer, is_unspaced_script, normalize

INFORM_PLACE = "inform_place"
EMERGENCY = "emergency"
# A confident classifier wins over a small town whose name is also a word ("hola", "como").
CONFIDENT = 0.9
BIG_CITY = 1_000_000


def place_named(name: str) -> Place | None:
    """A place by name, unless the name is an everyday word of people's messages ("casa",
    "hola", "tulong") and not the main name of a big city."""
    place = gazetteer().lookup(name)
    if place is None or name not in training_vocabulary():
        return place
    own_name = normalize(place.name) == name
    return place if own_name and place.population >= BIG_CITY else None


def bare_place(text: str, languages: list[str] | None = None) -> Place | None:
    """The place, when the message is nothing but a place and the words around one."""
    prepositions, fillers = place_words(languages)
    around = prepositions | fillers
    words = normalize(text).split()
    if not words:
        return None
    core = [w for w in words if w not in around]
    # Words around a place may be part of its name ("Ciudad de Mexico"): try the whole first.
    place = place_named(" ".join(words)) or (core and place_named(" ".join(core)))
    if place or not is_unspaced_script(text):
        return place or None
    squeezed = "".join(words)
    for word in sorted((w for w in around if is_unspaced_script(w)), key=len, reverse=True):
        squeezed = squeezed.replace(normalize(word).replace(" ", ""), "")
    return place_named(squeezed) if squeezed else None


def place_in(text: str, languages: list[str] | None = None) -> Place | None:
    """A place named after a preposition, or written inside unspaced text."""
    prepositions, _ = place_words(languages)
    words = normalize(text).split()
    for index, word in enumerate(words):
        if word not in prepositions:
            continue
        for size in range(4, 0, -1):
            span = words[index + 1 : index + 1 + size]
            if len(span) == size and (place := place_named(" ".join(span))):
                return place
    return gazetteer().find_unspaced(text) if is_unspaced_script(text) else None


def _entity(place: Place) -> dict[str, Any]:
    return {"entity": "place", "value": place.name, "extractor": "PlaceExtractor"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PlaceExtractor(GraphComponent):
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> PlaceExtractor:
        gazetteer()  # load at start-up, not on the first survivor's message
        training_vocabulary()
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process(message)
        return messages

    def _process(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        intent = message.get(INTENT) or {}
        confident = (intent.get("confidence") or 0) >= CONFIDENT
        if not text or text.startswith("/") or (intent.get("name") == EMERGENCY and confident):
            return  # the safety net or a sure classifier said danger: nothing overrides it
        languages = likely_languages(message)
        place = bare_place(text, languages)
        if place is not None:
            # A big city wins over a confident guess only when named by its own name: "daca"
            # (an alternate name of Dhaka) is also a word.
            named = normalize(place.name) in normalize(text)
            if not confident or (named and place.population >= BIG_CITY):
                message.set(INTENT, {"name": INFORM_PLACE, "confidence": 1.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [{"name": INFORM_PLACE, "confidence": 1.0}],
                            add_to_output=True)
                message.set(ENTITIES, [*message.get(ENTITIES, []), _entity(place)],
                            add_to_output=True)
                return
        place = place_in(text, languages)
        if place is not None:
            message.set(ENTITIES, [*message.get(ENTITIES, []), _entity(place)], add_to_output=True)
