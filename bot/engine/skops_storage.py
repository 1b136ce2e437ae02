"""Saving and loading the scikit-learn models our NLU components train (skops, not pickle)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

logger = logging.getLogger(__name__)
_EXPECTED = ("sklearn.", "numpy.", "scipy.", "builtins.")


def save_sklearn(model: Any, path: Path) -> None:
    import skops.io as sio

    sio.dump(model, path)


def load_sklearn(model_storage: ModelStorage, resource: Resource, file_name: str) -> Any | None:
    """The model, or None when this model archive has none (a warning)."""
    import skops.io as sio

    try:
        with model_storage.read_from(resource) as directory:
            path = directory / file_name
            untrusted = sio.get_untrusted_types(file=path)
            unexpected = [t for t in untrusted if not t.startswith(_EXPECTED)]
            if unexpected:  # only scikit-learn and numpy types are in a model we trained
                raise ValueError(f"unexpected types in {file_name}: {unexpected}")
            return sio.load(path, trusted=untrusted)
    except (ValueError, FileNotFoundError) as error:
        logger.warning("could not load %s: %s", file_name, error)
        return None
