"""NLU component: a deliberately high-recall emergency safety net.

Whatever the classifier thought, a message that matches any language's emergency patterns
(dialogues/languages/*.yml) takes the emergency path: a false alarm shows an emergency number,
a miss can cost a life. The patterns of the message's likely languages and English apply,
and those of every language when the language cannot be told.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.engine.language_identifier import likely_languages
from bot.engine.language_resources import LanguageResources, all_resources, resources_for
from services_directory.places import fold

EMERGENCY = "emergency"
# Below this, an emergency guess of the classifier that no pattern confirms is not acted on
# (the next intent is): chosen on the held-out sets, where every such guess under 0.4 was a
# false alarm and every real emergency was caught by a pattern or guessed above 0.4.
UNCONFIRMED_EMERGENCY_FLOOR = 0.4


def looks_like_emergency(text: str, languages: list[str] | None = None) -> bool:
    """Patterns of the message's likely languages and English; of all languages when the
    language cannot be told (short messages). Those that also fit the past, a dream or therapy
    ("he locked me in", "a knife") are skipped in a calm context: one of these languages' calm
    words ("I still dream that...", "years ago") and none of their right-now words ("right
    now", "he is at the door"). Asking for a lawyer or the police is never calm. All of the
    languages count, for a message in one language often matches a pattern of a neighbouring
    one."""
    folded = fold(text)
    chosen = resources_for(languages)
    if any(pattern.search(folded) for resources in chosen
           for pattern in resources.emergency_patterns):
        return True
    if _calm(folded, chosen):
        return False
    return any(pattern.search(folded) for resources in chosen
               for pattern in resources.unless_calm_patterns)


def _calm(folded: str, chosen: list[LanguageResources]) -> bool:
    return (any(r.calm_context is not None and r.calm_context.search(folded) for r in chosen)
            and not any(r.right_now is not None and r.right_now.search(folded) for r in chosen))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyNet(GraphComponent):
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SafetyNet:
        all_resources()  # compile the patterns at start-up
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or []
                       if r.get("name") != EMERGENCY]
            if looks_like_emergency(text, likely_languages(message)):
                message.set(INTENT, {"name": EMERGENCY, "confidence": 1.0, "safety_net": True},
                            add_to_output=True)
                message.set(INTENT_RANKING_KEY, [{"name": EMERGENCY, "confidence": 1.0},
                                                 *ranking], add_to_output=True)
            elif _unconfirmed_emergency(message.get(INTENT) or {}) and ranking:
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


def _unconfirmed_emergency(intent: dict[str, Any]) -> bool:
    return (intent.get("name") == EMERGENCY
            and (intent.get("confidence") or 0.0) < UNCONFIRMED_EMERGENCY_FLOOR)
