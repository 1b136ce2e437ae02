"""NLU components whose trained state is one scikit-learn model, saved with skops (not pickle).

The TF-IDF vocabularies (hundreds of thousands of character n-grams) are saved beside it as
plain arrays: skops writes a dict as one JSON node per entry, which made the classifier's file
350 MB of JSON, its loading 50-100 s and the bot's peak memory 1.5 GB.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from typing_extensions import Self

from bot.engine.quick_answer import QuickAnswer

logger = logging.getLogger(__name__)
_EXPECTED_TYPES = ("sklearn.", "numpy.", "scipy.", "builtins.")
VOCABULARIES = "vocabularies.npz"


def _with_vocabulary(model: Any) -> Iterator[Any]:
    """The fitted vectorizers inside a model, always in the same order."""
    if isinstance(getattr(model, "vocabulary_", None), dict):
        yield model
    for _, child in [*getattr(model, "steps", []), *getattr(model, "transformer_list", [])]:
        yield from _with_vocabulary(child)


def save_vocabularies(vectorizers: list[Any], path: Path) -> None:
    """Write every vocabulary to ``path`` (UTF-8 bytes and lengths, in index order)."""
    arrays = {}
    for number, vectorizer in enumerate(vectorizers):
        vectorizer.stop_words_ = None  # terms cut by min_df/max_df: introspection only
        vocabulary = vectorizer.vocabulary_
        terms = [term.encode() for term in sorted(vocabulary, key=vocabulary.__getitem__)]
        arrays[f"bytes{number}"] = np.frombuffer(b"".join(terms), dtype=np.uint8)
        arrays[f"lengths{number}"] = np.array([len(term) for term in terms], dtype=np.int32)
    np.savez(path, **arrays)


def load_vocabularies(model: Any, path: Path) -> None:
    if not path.is_file():  # a model saved before the vocabularies had a file of their own
        return
    with np.load(path, allow_pickle=False) as arrays:
        for number, vectorizer in enumerate(_with_vocabulary(model)):
            data = arrays[f"bytes{number}"].tobytes()
            ends = np.cumsum(arrays[f"lengths{number}"]).tolist()
            starts = [0, *ends[:-1]]
            vectorizer.vocabulary_ = {data[start:end].decode(): index for index, (start, end)
                                      in enumerate(zip(starts, ends, strict=True))}


class SklearnComponent(GraphComponent):
    FILE_NAME = "model.skops"

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: Any | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self._predictor: tuple[Any, Any] = (None, None)  # (model, what answers for it)

    @property
    def predictor(self) -> Any:
        """What answers for the model: its QuickAnswer (the same numbers, without
        scikit-learn's per-call costs) or, for another shape of model, the model."""
        if self._predictor[0] is not self.model:
            self._predictor = (self.model, QuickAnswer.of(self.model))
        return self._predictor[1]

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> Self:
        return cls(config, model_storage, resource)

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as directory:
            vectorizers = list(_with_vocabulary(self.model))
            vocabularies = [vectorizer.vocabulary_ for vectorizer in vectorizers]
            save_vocabularies(vectorizers, directory / VOCABULARIES)
            try:  # skops writes the model without them
                for vectorizer in vectorizers:
                    vectorizer.vocabulary_ = {}
                sio.dump(self.model, directory / self.FILE_NAME)
            finally:
                for vectorizer, vocabulary in zip(vectorizers, vocabularies, strict=True):
                    vectorizer.vocabulary_ = vocabulary

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> Self:
        """The trained component; untrained (a warning) when the archive has no model."""
        import skops.io as sio

        model = None
        try:
            with model_storage.read_from(resource) as directory:
                path = directory / cls.FILE_NAME
                untrusted = sio.get_untrusted_types(file=path)
                unexpected = [t for t in untrusted if not t.startswith(_EXPECTED_TYPES)]
                if unexpected:  # only scikit-learn and numpy types are in a model we trained
                    raise ValueError(f"unexpected types in {cls.FILE_NAME}: {unexpected}")
                model = sio.load(path, trusted=untrusted)
                load_vocabularies(model, directory / VOCABULARIES)
        except (ValueError, FileNotFoundError) as error:
            logger.warning("could not load %s: %s", cls.FILE_NAME, error)
        return cls(config, model_storage, resource, model)
