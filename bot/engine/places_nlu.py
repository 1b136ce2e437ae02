"""NLU component: recognises a place typed by the user ("Madrid", "estoy en cdmx").

A message that is only a place becomes the intent `inform_place`; a place named after a
locative word ("... en Madrid", "... in Chicago") becomes the entity `place` of whatever the
classifier understood. Place names are too many and too varied to learn from examples.
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

from services_directory.places import Place, gazetteer, normalize

INFORM_PLACE = "inform_place"
EMERGENCY = "emergency"
# Words that introduce a place, and words around a bare place name ("I'm in X now").
LOCATIVES = frozenset({"in", "near", "at", "around", "en", "cerca", "de", "desde", "por"})
FILLERS = frozenset({
    "i", "im", "am", "m", "in", "near", "at", "now", "right", "live", "my", "city", "is",
    "the", "area", "estoy", "en", "ahora", "vivo", "cerca", "de", "mi", "ciudad", "es", "la",
    "aqui", "ya", "soy", "here", "i'm",
})
# A confident classifier wins over a small town whose name is also a word ("hola", "como").
CONFIDENT = 0.9
BIG_CITY = 1_000_000


def _bare_place(words: list[str]) -> Place | None:
    core = [w for w in words if w not in FILLERS]
    if not core:
        return None
    # Fillers may also be part of a name ("Ciudad de Mexico"): try the whole text first.
    return gazetteer().lookup(" ".join(words)) or gazetteer().lookup(" ".join(core))


def _place_after_locative(words: list[str]) -> Place | None:
    for index, word in enumerate(words):
        if word not in LOCATIVES:
            continue
        for size in range(4, 0, -1):
            span = words[index + 1 : index + 1 + size]
            if len(span) == size and (place := gazetteer().lookup(" ".join(span))):
                return place
    return None


def _entity(place: Place) -> dict[str, Any]:
    return {"entity": "place", "value": place.name, "extractor": "PlaceExtractor"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PlaceExtractor(GraphComponent):
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> PlaceExtractor:
        gazetteer()  # load at start-up, not on the first survivor's message
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process(message)
        return messages

    def _process(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text or text.startswith("/"):
            return
        words = normalize(text).split()
        intent = message.get(INTENT) or {}
        place = _bare_place(words)
        if place is not None:
            confident = (intent.get("confidence") or 0) >= CONFIDENT
            if intent.get("name") != EMERGENCY and (
                not confident or place.population >= BIG_CITY
            ):
                message.set(INTENT, {"name": INFORM_PLACE, "confidence": 1.0}, add_to_output=True)
                ranking = [{"name": INFORM_PLACE, "confidence": 1.0}]
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
                message.set(ENTITIES, [*message.get(ENTITIES, []), _entity(place)],
                            add_to_output=True)
                return
        place = _place_after_locative(words)
        if place is not None:
            message.set(ENTITIES, [*message.get(ENTITIES, []), _entity(place)], add_to_output=True)
