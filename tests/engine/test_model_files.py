"""A trained classifier is saved without pickle and comes back answering the same; its
vocabularies are plain arrays beside the skops file, not one JSON node per n-gram. A loaded
classifier answers through QuickAnswer, with scikit-learn's numbers."""

from __future__ import annotations

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.engine.quick_answer import QuickAnswer
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
    texts = ["abogado por favor", "dormir", "спать", "", "🙂", "zzz", "ช่วยด้วย"]
    before = trained.model.predict_proba(texts)
    assert isinstance(loaded.predictor, QuickAnswer)
    after = loaded.predictor.predict_proba(texts)
    # the same up to the order in which floating-point sums are taken
    np.testing.assert_allclose(after, before, rtol=1e-12, atol=1e-15)
    assert list(loaded.predictor.classes_) == list(trained.model.classes_)
    processed = loaded.process([Message(data={"text": t}) for t in texts])
    assert [m.get("intent")["name"] for m in processed] == list(
        trained.model.classes_[before.argmax(axis=1)])
    union = loaded.model.named_steps["features"]
    for (_, original), (_, restored) in zip(trained.model.named_steps["features"].transformer_list,
                                            union.transformer_list, strict=True):
        assert restored.vocabulary_ == original.vocabulary_ and restored.vocabulary_
    directory = tmp_path / "classifier"
    assert (directory / VOCABULARIES).is_file()
    assert "dormir" not in (directory / TextClassifier.FILE_NAME).read_bytes().decode("latin-1")


def test_a_model_of_another_shape_is_answered_by_scikit_learn():
    model = build_model(calibration_folds=2)
    model.steps[1][1].method = "isotonic"
    model.fit(TEXTS, np.array(LABELS))
    assert QuickAnswer.of(model) is model
