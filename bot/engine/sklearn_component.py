"""NLU components whose trained state is one scikit-learn model, saved with skops (not pickle)."""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from typing_extensions import Self

logger = logging.getLogger(__name__)
_EXPECTED_TYPES = ("sklearn.", "numpy.", "scipy.", "builtins.")


class SklearnComponent(GraphComponent):
    FILE_NAME = "model.skops"

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: Any | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> Self:
        return cls(config, model_storage, resource)

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self.model, directory / self.FILE_NAME)

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
        except (ValueError, FileNotFoundError) as error:
            logger.warning("could not load %s: %s", cls.FILE_NAME, error)
        return cls(config, model_storage, resource, model)
