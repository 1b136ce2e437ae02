"""A trained classifier is saved without pickle and comes back answering the same; its
vocabularies are plain arrays beside the skops file, not one JSON node per n-gram."""

from __future__ import annotations

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.engine.sklearn_component import VOCABULARIES
from bot.engine.text_classifier import TextClassifier, build_model

TEXTS = ["necesito un abogado", "no tengo dónde dormir", "my boss keeps my passport",
         "мне негде спать", "我需要律师", "ช่วยด้วย ฉันไม่มีที่นอน", "أحتاج محامي", "merci beaucoup",
         "i need a lawyer", "where can i sleep tonight", "thank you so much", "gracias"] * 3
LABELS = ["legal", "shelter", "legal", "shelter", "legal", "shelter", "legal", "thanks",
          "legal", "shelter", "thanks", "thanks"] * 3


def test_saved_and_loaded_classifier_answers_the_same(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("classifier")
    context = ExecutionContext(GraphSchema({}), "test")
    trained = TextClassifier.create({}, storage, resource, context)
    trained.model = build_model()
    trained.model.fit(TEXTS, np.array(LABELS))
    trained.persist()

    loaded = TextClassifier.load({}, storage, resource, context)
    messages = [Message(data={"text": t}) for t in ["abogado por favor", "dormir", "спать"]]
    before = trained.model.predict_proba([m.get("text") for m in messages])
    after = loaded.model.predict_proba([m.get("text") for m in messages])
    # the same up to the order in which floating-point sums are taken (_AnsweringTfidf)
    np.testing.assert_allclose(after, before, rtol=1e-12, atol=1e-15)
    union = loaded.model.named_steps["features"]
    for (_, original), (_, restored) in zip(trained.model.named_steps["features"].transformer_list,
                                            union.transformer_list, strict=True):
        assert restored.vocabulary_ == original.vocabulary_ and restored.vocabulary_
    directory = tmp_path / "classifier"
    assert (directory / VOCABULARIES).is_file()
    assert "dormir" not in (directory / TextClassifier.FILE_NAME).read_bytes().decode("latin-1")
